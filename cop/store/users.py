"""Users (hashed passwords) and per-source API tokens, stored in Redis."""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import cache

import orjson
import redis
from werkzeug.security import check_password_hash, generate_password_hash

from cop.domain.users import Role, User
from cop.store.keys import Keys, as_text

MIN_PASSWORD_LENGTH = 10
TOKEN_SOURCE_PATTERN = r"^[a-z0-9][a-z0-9_.-]{1,63}$"  # noqa: S105 - a name pattern, not a secret


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


class UserExists(ValueError):
    pass


@dataclass(frozen=True, slots=True)
class TokenInfo:
    source: str
    created_at: str
    token_hash: str


class UserStore:
    """Users in `{p}:user:{name}` hashes; tokens stored only as SHA-256 hashes."""

    def __init__(self, client: redis.Redis, keys: Keys) -> None:
        self.client = client
        self.keys = keys

    # -- users ----------------------------------------------------------------------------------

    def add(
        self,
        username: str,
        password: str,
        role: Role,
        *,
        provinces: frozenset[str] = frozenset(),
        hospitals: frozenset[str] = frozenset(),
        display_name: str = "",
        replace: bool = False,
    ) -> User:
        """Create (or with `replace`, reset) a user; the password is stored hashed (scrypt)."""
        if len(password) < MIN_PASSWORD_LENGTH:
            raise ValueError(f"password: must be at least {MIN_PASSWORD_LENGTH} characters")
        previous = self.get(username)
        if previous is not None and not replace:
            raise UserExists(f"username: {username!r} already exists")
        user = User(
            username=username,
            display_name=display_name,
            role=role,
            provinces=provinces,
            hospitals=hospitals,
            created_at=datetime.now(UTC),
            session_version=(previous.session_version + 1) if previous else 1,
        )
        pipe = self.client.pipeline(transaction=True)
        pipe.hset(
            self.keys.user(username),
            mapping={"user": user.model_dump_json(), "password": generate_password_hash(password)},
        )
        pipe.sadd(self.keys.users, username)
        pipe.execute()
        return user

    def get(self, username: str) -> User | None:
        raw = self.client.hget(self.keys.user(username), "user")
        return User.model_validate_json(raw) if raw else None

    def authenticate(self, username: str, password: str) -> User | None:
        """The user if the password matches and the account is enabled; otherwise None."""
        row = self.client.hmget(self.keys.user(username), ["user", "password"])
        if not row[0] or not row[1]:
            # Spend the same time as a real check so that timing does not reveal usernames.
            check_password_hash(_dummy_hash(), password)
            return None
        user = User.model_validate_json(row[0])
        if not check_password_hash(as_text(row[1]), password) or user.disabled:
            return None
        return user

    # -- login rate limiting ----------------------------------------------------------------------

    def note_failure(self, who: str, window_s: int) -> int:
        key = self.keys.login_failures(who)
        pipe = self.client.pipeline(transaction=True)
        pipe.set(key, 0, ex=window_s, nx=True)  # the window starts at the first failure
        pipe.incr(key)
        _, count = pipe.execute()
        return int(count)

    def failures(self, who: str) -> int:
        value = self.client.get(self.keys.login_failures(who))
        return int(value) if value else 0

    def clear_failures(self, who: str) -> None:
        self.client.delete(self.keys.login_failures(who))

    # -- API tokens --------------------------------------------------------------------------------

    def add_token(self, source: str) -> str:
        """Create a token for a machine source; returns the token (shown once, stored hashed)."""
        token = "cop_" + secrets.token_urlsafe(32)
        token_hash = hash_token(token)
        info = {"source": source, "created_at": datetime.now(UTC).isoformat()}
        pipe = self.client.pipeline(transaction=True)
        pipe.set(self.keys.token(token_hash), orjson.dumps(info))
        pipe.sadd(self.keys.tokens_of(source), token_hash)
        pipe.sadd(self.keys.token_sources, source)
        pipe.execute()
        return token

    def check_token(self, token: str) -> TokenInfo | None:
        token_hash = hash_token(token)
        raw = self.client.get(self.keys.token(token_hash))
        if raw is None:
            return None
        info = orjson.loads(raw)
        return TokenInfo(info["source"], info["created_at"], token_hash)

    def revoke_tokens(self, source: str) -> int:
        """Revoke every token of a source; returns how many."""
        hashes = [as_text(h) for h in self.client.smembers(self.keys.tokens_of(source))]
        pipe = self.client.pipeline(transaction=True)
        for token_hash in hashes:
            pipe.delete(self.keys.token(token_hash))
        pipe.delete(self.keys.tokens_of(source))
        pipe.srem(self.keys.token_sources, source)
        pipe.execute()
        return len(hashes)


@cache
def _dummy_hash() -> str:
    return generate_password_hash(secrets.token_hex(16))
