"""What a mismatch says: openapi-core's errors turned into short bullet lines, and the extra checks
(undeclared query parameters and body fields).
"""

from __future__ import annotations

import json
from typing import Any

from openapi_core.casting.schemas.exceptions import CastError
from openapi_core.deserializing.exceptions import DeserializeError
from openapi_core.templating.media_types.exceptions import MediaTypeNotFound
from openapi_core.templating.paths.exceptions import (
    OperationNotFound,
    PathNotFound,
    ServerNotFound,
)
from openapi_core.templating.responses.exceptions import ResponseNotFound
from openapi_core.validation.request.exceptions import (
    MissingRequiredRequestBody,
    ParameterValidationError,
    RequestBodyValidationError,
    SecurityValidationError,
)
from openapi_core.validation.response.exceptions import (
    DataValidationError,
    HeaderValidationError,
    MissingData,
)
from openapi_core.validation.schemas.exceptions import InvalidSchemaValue

from cloudkit.testing.openapi.spec import _MAX_NESTING, _is_secret, _json_path, _json_type, _safe_str, _shorten


def _schema_error_lines(root: str, error: Any, depth: int = 0) -> list[str]:
    """Describe one jsonschema error (and the alternatives of anyOf/oneOf) without secrets."""
    path = list(getattr(error, "absolute_path", ()) or ())
    where = _json_path(root, path)
    validator = getattr(error, "validator", None)
    expected = getattr(error, "validator_value", None)
    instance = getattr(error, "instance", None)
    pad = "    " * depth
    context = list(getattr(error, "context", None) or ())
    if validator in ("anyOf", "oneOf") and context:
        count = len(expected) if isinstance(expected, list) else len(context)
        lines = [f"{pad}{where}: matches none of the {count} {validator} alternatives:"]
        branches: dict[int, list[Any]] = {}
        for sub in context:
            relative = list(getattr(sub, "relative_schema_path", ()) or ())
            index = relative[0] if relative and isinstance(relative[0], int) else -1
            branches.setdefault(index, []).append(sub)
        for index in sorted(branches):
            subs = branches[index]
            lines.append(f"{pad}  alternative {index + 1}:")
            if depth + 1 >= _MAX_NESTING:
                lines.append(f"{pad}    ({len(subs)} more problem(s) not shown)")
                continue
            for sub in subs:
                lines.extend(_schema_error_lines(root, sub, depth + 1))
        return lines
    message = str(getattr(error, "message", ""))
    if validator == "type":
        message = f"expected type {expected!r}, got {_json_type(instance)}"
    elif validator in ("required", "additionalProperties", "dependentRequired", "propertyNames"):
        pass  # these messages name properties, never values
    elif isinstance(instance, dict | list) or any(_is_secret(p) for p in path):
        # Do not echo the value: it may be large or hold a secret.
        shown = repr(instance)
        if message.startswith(shown):
            message = f"{_json_type(instance)} value{message[len(shown) :]}"
        else:
            message = f"{_json_type(instance)} value fails {validator}: {_shorten(repr(expected), 120)}"
    if validator in ("anyOf", "oneOf") and "could not be resolved" in message:
        message = f"no {validator} alternative fits the discriminator value ({message})"
    return [f"{pad}{where}: {_shorten(message)}"]


def _schema_problems(root: str, cause: object) -> list[str]:
    lines: list[str] = []
    for error in getattr(cause, "schema_errors", ()) or ():
        lines.extend(_schema_error_lines(root, error))
    return lines or [f"{root}: does not match its schema"]


def _body_problems(exc: BaseException, root: str) -> list[str]:
    cause = exc.__cause__
    if isinstance(cause, InvalidSchemaValue):
        return _schema_problems(root, cause)
    if isinstance(cause, MediaTypeNotFound):
        documented = ", ".join(cause.availableMimetypes) or "none"
        if not cause.mimetype:
            return [f"{root}: sent without a Content-Type header (documented: {documented})"]
        return [f"{root}: Content-Type {cause.mimetype!r} is not documented (documented: {documented})"]
    if isinstance(cause, DeserializeError):
        return [f"{root}: could not be decoded as its Content-Type says"]
    if isinstance(exc, MissingRequiredRequestBody):
        return [f"{root}: the operation requires a request body and none was sent"]
    if isinstance(exc, MissingData):
        return [f"{root}: missing (the documented response has content)"]
    return [f"{root}: {_shorten(_safe_str(exc))}"]


def _describe(exc: BaseException, method: str) -> list[str]:
    """Turn one openapi-core finding into readable problem lines."""
    cause = exc.__cause__
    if isinstance(exc, PathNotFound):
        return ["no path in the OpenAPI description matches this URL"]
    if isinstance(exc, OperationNotFound):
        return [f"the path exists but documents no {method.upper()} operation"]
    if isinstance(exc, ServerNotFound):
        return ["the URL is not under the description's server URL"]
    if isinstance(exc, SecurityValidationError):
        schemes = getattr(cause, "schemes", None) or []
        accepted = " or ".join("+".join(s) for s in schemes) or "its security schemes"
        return [f"credentials missing or malformed: the operation requires {accepted}"]
    if isinstance(exc, ParameterValidationError):
        label = f"{exc.location} parameter {exc.name!r}"
        if _is_secret(exc.name) and cause is not None:
            return [f"{label}: invalid value (hidden)"]
        if isinstance(cause, InvalidSchemaValue):
            return _schema_problems(label, cause)
        if isinstance(cause, CastError):
            return [f"{label}: {_shorten(_safe_str(cause))}"]
        if isinstance(cause, DeserializeError):
            mimetype = getattr(cause, "mimetype", "its media type")
            return [f"{label}: value could not be decoded as {mimetype}"]
        return [_shorten(_safe_str(exc))]
    if isinstance(exc, RequestBodyValidationError):
        return _body_problems(exc, "body")
    if isinstance(exc, ResponseNotFound):
        documented = ", ".join(str(s) for s in exc.availableresponses)
        return [f"status {exc.http_status} is not documented for this operation (documented: {documented})"]
    if isinstance(exc, DataValidationError):
        return _body_problems(exc, "body")
    if isinstance(exc, HeaderValidationError):
        label = f"response header {exc.name!r}"
        if isinstance(cause, InvalidSchemaValue):
            return _schema_problems(label, cause)
        return [_shorten(_safe_str(exc))]
    return [f"{type(exc).__name__}: {_shorten(_safe_str(exc))}"]


def _declared_parameters(path_item: Any, operation: Any, location: str) -> set[str]:
    names: set[str] = set()
    for holder in (path_item, operation):
        if "parameters" not in holder:
            continue
        for parameter in holder / "parameters":
            if (parameter / "in").read_str() == location:
                names.add((parameter / "name").read_str())
    return names


def _schema_field_names(schema: Any, depth: int = 0) -> set[str] | None:
    """Property names a body schema declares, through allOf/anyOf/oneOf; None if it is open."""
    if depth > 10:
        return None
    if "additionalProperties" in schema:
        extra = (schema / "additionalProperties").read_value()
        if extra is not False:
            return None
    names: set[str] = set()
    if "properties" in schema:
        names.update(str(k) for k in (schema / "properties").keys())
    for keyword in ("allOf", "anyOf", "oneOf"):
        if keyword in schema:
            for sub in schema / keyword:
                sub_names = _schema_field_names(sub, depth + 1)
                if sub_names is None:
                    return None
                names.update(sub_names)
    return names


def _undeclared_body_fields(operation: Any, content_type: str, body: bytes) -> list[str]:
    mimetype = content_type.split(";")[0].strip().lower()
    if "json" not in mimetype:
        return []
    content = operation / "requestBody" / "content"
    if mimetype not in content or "schema" not in content / mimetype:
        return []
    try:
        value = json.loads(body)
    except ValueError:
        return ["body: not valid JSON"]
    if not isinstance(value, dict):
        return []
    declared = _schema_field_names(content / mimetype / "schema")
    if not declared:
        return []  # a free-form object: nothing to compare against
    return [
        f"body.{name}: field is not declared by the request body schema"
        for name in sorted(set(value) - declared)
    ]
