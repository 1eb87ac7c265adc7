"""Provider drivers, one module each; loaded lazily by cloudkit.providers.get_driver."""
