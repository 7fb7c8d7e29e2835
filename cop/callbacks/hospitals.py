"""Hospital pages: the manager's save (server, permission checked again) and clientside filters."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

import dash
from dash import ALL, Input, Output, State, ctx, html
from flask import abort, request

from cop.auth import current_scope_user
from cop.domain.errors import InvalidInput
from cop.feeds.hospitals import HospitalUpdates
from cop.layouts.ids import Ids

BRUSSELS = ZoneInfo("Europe/Brussels")


def changes_from_form(ids: list[dict[str, str]], values: list[Any], ems: str, comment: str) -> dict[str, Any]:
    """The form's inputs as a HAVE update (bed counts per type, ED status, comment)."""
    beds: dict[str, dict[str, Any]] = {}
    for component_id, value in zip(ids, values, strict=True):
        bed = beds.setdefault(component_id["bed"], {"bed_type": component_id["bed"]})
        bed[component_id["field"]] = value
    for bed in beds.values():
        bed["status"] = "Vacant/Available" if bed.get("available") else "NotAvailable"
    changes: dict[str, Any] = {"beds": list(beds.values()), "ems_traffic": ems}
    changes["comments"] = [comment.strip()] if comment and comment.strip() else []
    return changes


def register_hospital_callbacks(app: dash.Dash, updates: HospitalUpdates) -> None:
    @app.callback(
        Output(Ids.HOSPITAL_SAVED, "children"),
        Input(Ids.HOSPITAL_SAVE, "n_clicks"),
        Input({"type": "cop-bed-input", "bed": ALL, "field": ALL}, "n_submit"),
        State({"type": "cop-bed-input", "bed": ALL, "field": ALL}, "value"),
        State({"type": "cop-bed-input", "bed": ALL, "field": ALL}, "id"),
        State(Ids.HOSPITAL_EMS, "value"),
        State(Ids.HOSPITAL_COMMENT, "value"),
        State("cop-hospital-id", "data"),
        prevent_initial_call=True,
    )
    def save(
        _clicks: int,
        _submits: list[int | None],
        values: list[Any],
        ids: list[dict[str, str]],
        ems: str,
        comment: str,
        hospital_id: str,
    ) -> Any:
        if not ctx.triggered or not any(t["value"] for t in ctx.triggered):
            raise dash.exceptions.PreventUpdate
        user = current_scope_user()
        if user is None or not user.can_manage_hospital(hospital_id):
            abort(403)  # the server decides, whatever the page showed
        try:
            updates.save(
                hospital_id,
                changes_from_form(ids, values, ems, comment),
                actor=user.username,
                observed_at=datetime.now(UTC),
                origin=request.remote_addr or "",
            )
        except InvalidInput as error:
            return html.Span(
                ["Not saved: ", *[html.Div(f"{p.field}: {p.problem}") for p in error.problems]],
                className="save-error",
            )
        # Only now is the entry in Redis: confirm with the time, in Brussels.
        return html.Span(f"Saved at {datetime.now(BRUSSELS):%H:%M}", className="save-ok")

    app.clientside_callback(
        "function (provinces, bedType) {"
        " return COP.hospitals ? COP.hospitals.setFilters(provinces, bedType) : null; }",
        Output("cop-hospital-filter-applied", "data"),
        Input(Ids.HOSPITAL_PROVINCE, "value"),
        Input(Ids.HOSPITAL_BED_TYPE, "value"),
    )
    app.clientside_callback(
        """function (provinces, bedType) {
            const query = (provinces || []).map(p => "province=" + p);
            if (bedType) query.push("bed_type=" + bedType);
            query.push("de=1");
            return "/api/v1/have?" + query.join("&");
        }""",
        Output(Ids.HOSPITAL_EXPORT, "href"),
        Input(Ids.HOSPITAL_PROVINCE, "value"),
        Input(Ids.HOSPITAL_BED_TYPE, "value"),
    )
