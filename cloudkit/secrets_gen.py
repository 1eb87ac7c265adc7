"""Random passwords for root logins and password keys: the one generator that every driver
(and ``deploy_node``) uses, so its strength rules live in one place."""

from __future__ import annotations

import string

from cloudkit.errors import ValidationError

__all__ = ["generate_password"]


def generate_password(length: int = 24, symbols: str = "") -> str:
    """A random password of ``length`` characters from ASCII letters, digits and ``symbols``,
    with at least one lower-case letter, one upper-case letter, one digit and (when
    ``symbols`` is given) one of ``symbols``; every such password is equally likely."""
    needed = 4 if symbols else 3
    if length < needed:
        raise ValidationError(f"a generated password needs at least {needed} characters, not {length}")
    import secrets  # imported on first use: importing cloudkit stays quick

    alphabet = string.ascii_letters + string.digits + symbols
    while True:
        password = "".join(secrets.choice(alphabet) for _ in range(length))
        if (any(c.islower() for c in password) and any(c.isupper() for c in password)
                and any(c.isdigit() for c in password)
                and (not symbols or any(c in symbols for c in password))):
            return password
