"""NephoScale SSH keys and password keys."""

from __future__ import annotations

from cloudkit.driver import object_id
from cloudkit.drivers.nephoscale.parsing import NephoscaleParsing, NephoscalePasswordKey
from cloudkit.drivers.nephoscale.rules import _NUMERIC_RE, KEY_GROUP_CONSOLE, KEY_GROUP_SERVER, _numeric_id, _scrubbed
from cloudkit.errors import MalformedResponseError, NotFoundError, ValidationError
from cloudkit.models import KeyPair
from cloudkit.secrets_gen import generate_password
from cloudkit.sshkeys import fingerprint_md5, generate_key_pair, parse_public_key


class NephoscaleKeys(NephoscaleParsing):
    """SSH keys (``/key/sshrsa/``) and password keys (``/key/password/``)."""

    def list_key_pairs(self) -> list[KeyPair]:
        """SSH keys (``GET /key/sshrsa/``)."""
        return [self._to_key_pair(k) for k in self._list("/key/sshrsa/", "nephoscale ssh keys")]

    def import_key_pair_from_string(self, name: str, key_material: str,
                                    ex_key_group: int = KEY_GROUP_SERVER) -> KeyPair:
        """Store an OpenSSH public key (in the server key group unless told otherwise)."""
        if not isinstance(name, str) or not name.strip():
            raise ValidationError("key pair name must be a non-empty string")
        kind, _, _ = parse_public_key(key_material)
        public_key = key_material.strip()
        form = {"name": name.strip(), "public_key": public_key, "key_group": int(ex_key_group)}
        resp = self.connection.request("/key/sshrsa/", data=form, method="POST",
                                       outcome_hint=f"look for an SSH key named {name!r} before trying again")
        ident = self._job_reply(resp.object, f"create SSH key {name!r}")
        if ident is None:
            raise MalformedResponseError(f"create SSH key {name!r}: the reply has no key id",
                                         driver=self.name)
        return KeyPair(name.strip(), public_key, fingerprint_md5(public_key), self, id=ident,
                       extra={"key_group": int(ex_key_group), "key_type": 2, "type": kind})

    def create_key_pair(self, name: str, public_key: str = "") -> KeyPair:
        """Store ``public_key`` under ``name``; without one, generate an RSA key pair locally
        (the endpoint is ``sshrsa``), store its public half and return it with the private
        half (shown only this once)."""
        if public_key:
            return self.import_key_pair_from_string(name, public_key)
        private, public = generate_key_pair("rsa", comment=name if isinstance(name, str) else "cloudkit")
        pair = self.import_key_pair_from_string(name, public)
        pair.private_key = private
        return pair

    def delete_key_pair(self, key_pair: KeyPair | str) -> bool:
        """Delete an SSH key (a KeyPair, its id, or its name)."""
        if isinstance(key_pair, KeyPair) and key_pair.id:
            ident = _numeric_id(key_pair.id, "key pair")
        elif isinstance(key_pair, str) and _NUMERIC_RE.fullmatch(key_pair.strip()):
            ident = key_pair.strip()
        else:
            name = key_pair.name if isinstance(key_pair, KeyPair) else object_id(key_pair, "key pair")
            found = self.get_key_pair(name)
            ident = _numeric_id(found.id, "key pair")
        resp = self.connection.request(f"/key/sshrsa/{ident}/", method="DELETE")
        self._job_reply(resp.object, f"delete SSH key {ident}")
        return True

    # -- password keys ------------------------------------------------------------------------

    def ex_list_password_keys(self) -> list[NephoscalePasswordKey]:
        """Password keys with their passwords (``GET /key/password/``; hidden in reprs)."""
        with _scrubbed(drop_body=True):
            items = self._list("/key/password/", "nephoscale password keys")
            return [self._to_password_key(k) for k in items]

    def ex_get_password_key(self, key: str) -> NephoscalePasswordKey:
        """One password key by id or name; NotFoundError when absent."""
        for item in self.ex_list_password_keys():
            if key in (item.id, item.name):
                return item
        raise NotFoundError(f"password key {key!r} not found", 404, driver=self.name)

    def ex_create_password_key(self, name: str, password: str | None = None,
                               key_group: int = KEY_GROUP_CONSOLE) -> NephoscalePasswordKey:
        """Store a password key (console group 4 by default; 1 for a root password). Without
        ``password`` a random one is generated; it is returned in the key, once."""
        if not isinstance(name, str) or not name.strip():
            raise ValidationError("password key name must be a non-empty string")
        if password is None:
            password = generate_password(16)
        elif not isinstance(password, str) or not password:
            raise ValidationError("password must be a non-empty string")
        if isinstance(key_group, bool) or key_group not in (KEY_GROUP_SERVER, KEY_GROUP_CONSOLE):
            raise ValidationError(f"key_group must be {KEY_GROUP_SERVER} (server) or "
                                  f"{KEY_GROUP_CONSOLE} (console)")
        form = {"name": name.strip(), "password": password, "key_group": key_group}
        with _scrubbed((password,)):
            resp = self.connection.request(
                "/key/password/", data=form, method="POST",
                outcome_hint=f"look for a password key named {name.strip()!r} before trying again")
            ident = self._job_reply(resp.object, f"create password key {name.strip()!r}")
        if ident is None:
            raise MalformedResponseError(f"create password key {name.strip()!r}: the reply has no key id",
                                         driver=self.name)
        return NephoscalePasswordKey(ident, name.strip(), key_group, password, self, {"key_type": 1})

    def ex_delete_password_key(self, key: NephoscalePasswordKey | str) -> bool:
        """Delete a password key (the object or its id)."""
        ident = key.id if isinstance(key, NephoscalePasswordKey) else _numeric_id(key, "password key")
        resp = self.connection.request(f"/key/password/{ident}/", method="DELETE")
        self._job_reply(resp.object, f"delete password key {ident}")
        return True
