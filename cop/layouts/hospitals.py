"""Hospital capacity pages: the live HAVE table with totals and chart, and a manager's form."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import dash_ag_grid as dag
from dash import dcc, html

from cop.domain.hospitals import BED_TYPE_LABELS, EMSTrafficStatus, HospitalPayload
from cop.domain.users import User
from cop.geo.reference import provinces
from cop.layouts.ids import Ids, bed_input_id

BRUSSELS = ZoneInfo("Europe/Brussels")
# AG Grid's theming API: Alpine in the app's dark palette.
GRID_THEME = (
    "themeAlpine.withParams({backgroundColor: '#17212b', foregroundColor: '#e6edf3',"
    " headerBackgroundColor: '#0f1720', borderColor: '#2a3a4a', accentColor: '#2f81f7',"
    " oddRowBackgroundColor: '#141d26', fontSize: 14})"
)
TABLE_BED_TYPES = (
    "EmergencyDepartment",
    "AdultICU",
    "PediatricICU",
    "MedicalSurgical",
    "Pediatrics",
    "NegativeFlowIsolation",
    "OperatingRooms",
)


def bed_column(bed_type: str) -> dict[str, object]:
    return {
        "headerName": BED_TYPE_LABELS[bed_type],
        "colId": bed_type,
        "valueGetter": {"function": f"copFree(params, '{bed_type}')"},
        "valueFormatter": {"function": f"copBedText(params, '{bed_type}')"},
        "cellClassRules": {
            "beds-none": f"copFree(params, '{bed_type}') === 0",
            "beds-low": f"copLowShare(params, '{bed_type}')",
        },
        "type": "rightAligned",
        "filter": "agNumberColumnFilter",
        "width": 120,
    }


def grid(stale_after_s: float) -> dag.AgGrid:
    columns = [
        {
            "headerName": "Hospital",
            "field": "name",
            "pinned": "left",
            "width": 300,
            "filter": "agTextColumnFilter",
            "tooltipField": "site",
        },
        {"headerName": "Province", "field": "province", "width": 140, "filter": "agTextColumnFilter"},
        {
            "headerName": "ED (EMS traffic)",
            "field": "ems",
            "width": 130,
            "cellClassRules": {
                "ems-closed": "params.value === 'Closed'",
                "ems-advisory": "params.value === 'Advisory'",
            },
        },
        *[bed_column(b) for b in TABLE_BED_TYPES],
        {
            "headerName": "Last update",
            "colId": "updated",
            "field": "updated_ms",
            "valueFormatter": {"function": "copTimeText(params.value)"},
            "width": 120,
        },
        {
            "headerName": "Age",
            "colId": "age",
            "field": "updated_ms",
            "valueFormatter": {"function": "copAgeText(params.value)"},
            "width": 100,
            "sort": None,
        },
        {"headerName": "By", "field": "updated_by", "width": 120},
        {
            "headerName": "",
            "field": "edit",
            "width": 90,
            "cellRenderer": "markdown",
            "sortable": False,
            "filter": False,
        },
    ]
    return dag.AgGrid(
        id=Ids.HOSPITAL_GRID,
        className="hospital-grid",
        columnDefs=columns,
        rowData=[],
        getRowId="params.data.id",
        defaultColDef={"sortable": True, "resizable": True, "filter": True},
        rowClassRules={"hospital-stale": f"copIsStale(params, {stale_after_s})"},
        dashGridOptions={
            "animateRows": False,
            "isExternalFilterPresent": {"function": "copFilterPresent()"},
            "doesExternalFilterPass": {"function": "copFilterPasses(node)"},
            "tooltipShowDelay": 300,
            "theme": {"function": GRID_THEME},
        },
        style={"height": "100%", "width": "100%"},
    )


def hospitals_page(user: User | None, stale_after_s: float) -> html.Div:
    names = provinces()
    scoped = sorted(user.provinces) if user and not user.national else []
    return html.Div(
        id=Ids.HOSPITALS_PAGE,
        className="hospitals-page",
        **{
            "data-provinces": json.dumps({code: p.name_en for code, p in names.items()}),
            "data-stale-after-s": str(stale_after_s),
            "data-can-edit": json.dumps(sorted(user.hospitals) if user else []),
            "data-admin": "1" if user and user.role.value == "admin" else "0",
        },
        children=[
            html.Div(
                className="hospitals-toolbar",
                children=[
                    html.H1("Hospital capacity"),
                    dcc.Dropdown(
                        id=Ids.HOSPITAL_PROVINCE,
                        options=[{"label": names[c].name_en, "value": c} for c in (scoped or names)],
                        value=scoped,
                        multi=True,
                        placeholder="All provinces",
                        className="province-filter",
                    ),
                    dcc.Dropdown(
                        id=Ids.HOSPITAL_BED_TYPE,
                        options=[{"label": BED_TYPE_LABELS[b], "value": b} for b in TABLE_BED_TYPES],
                        value="AdultICU",
                        clearable=False,
                        className="bed-type-filter",
                    ),
                    html.A(
                        "Download EDXL-HAVE",
                        id=Ids.HOSPITAL_EXPORT,
                        href="/api/v1/have?de=1",
                        className="button",
                        download="hospital-status-have.xml",
                    ),
                    dcc.Store(id="cop-hospital-filter-applied"),
                ],
            ),
            html.Div(
                className="hospitals-body",
                children=[
                    html.Div(grid(stale_after_s), className="hospitals-grid"),
                    html.Aside(
                        className="hospitals-side",
                        children=[
                            html.H2("Free beds per province"),
                            html.Table(id=Ids.HOSPITAL_TOTALS, className="totals"),
                            dcc.Graph(
                                id=Ids.HOSPITAL_CHART,
                                config={"displayModeBar": False},
                                style={"height": "340px"},
                                figure={
                                    "data": [],
                                    "layout": {
                                        "paper_bgcolor": "rgba(0,0,0,0)",
                                        "plot_bgcolor": "rgba(0,0,0,0)",
                                    },
                                },
                            ),
                        ],
                    ),
                ],
            ),
        ],
    )


def _age_text(observed: datetime, now: datetime) -> str:
    minutes = int((now - observed).total_seconds() // 60)
    if minutes < 60:
        return f"{minutes} min ago"
    if minutes < 48 * 60:
        return f"{minutes // 60} h ago"
    return f"{minutes // 1440} days ago"


def count_input(bed_type: str, field: str, value: int | None) -> dcc.Input:
    """A count of the form; its name (`AdultICU.available`) is what browser tests type into."""
    return dcc.Input(
        id=bed_input_id(bed_type, field),
        name=f"{bed_type}.{field}",
        type="number",
        min=0,
        step=1,
        value=value,
        className="count-input",
    )


def hospital_form(hospital_id: str, payload: HospitalPayload, observed_at: datetime) -> html.Div:
    """One screen: every bed type of the hospital, its previous values and their age."""
    now = datetime.now(UTC)
    when = observed_at.astimezone(BRUSSELS)
    previous = f"{when:%d/%m %H:%M} ({_age_text(observed_at, now)}, by {payload.updated_by or 'nobody'})"
    rows = []
    for bed in payload.beds:
        label = BED_TYPE_LABELS[bed.bed_type.value]
        rows.append(
            html.Tr(
                children=[
                    html.Th(label, scope="row"),
                    html.Td(count_input(bed.bed_type.value, "available", bed.available)),
                    html.Td(str(bed.available) if bed.available is not None else "-", className="previous"),
                    html.Td(count_input(bed.bed_type.value, "baseline", bed.baseline)),
                    html.Td(count_input(bed.bed_type.value, "additional_24h", bed.additional_24h)),
                ]
            )
        )
    return html.Div(
        id=Ids.HOSPITAL_FORM,
        className="hospital-form panel",
        children=[
            html.H1(f"{payload.name}"),
            html.P(f"{payload.site_name} · {payload.city}", className="muted"),
            html.P(["Previous report: ", html.Strong(previous)], className="previous-report"),
            dcc.Store(id="cop-hospital-id", data=hospital_id),
            html.Table(
                className="bed-form",
                children=[
                    html.Thead(
                        html.Tr(
                            [
                                html.Th("Bed type"),
                                html.Th("Free now"),
                                html.Th("Was"),
                                html.Th("Baseline"),
                                html.Th("Extra within 24 h"),
                            ]
                        )
                    ),
                    html.Tbody(rows),
                ],
            ),
            html.Label("Emergency department (EMS traffic)", htmlFor=Ids.HOSPITAL_EMS),
            dcc.Dropdown(
                id=Ids.HOSPITAL_EMS,
                options=[s.value for s in EMSTrafficStatus],
                value=payload.ems_traffic.value,
                clearable=False,
                className="ems-select",
            ),
            html.Label("Comment (optional)", htmlFor=Ids.HOSPITAL_COMMENT),
            dcc.Textarea(id=Ids.HOSPITAL_COMMENT, value="", className="comment", maxLength=500),
            html.Div(
                className="form-actions",
                children=[
                    html.Button("Save (Enter)", id=Ids.HOSPITAL_SAVE, n_clicks=0, className="primary"),
                    html.Span(id=Ids.HOSPITAL_SAVED, className="saved", role="status"),
                ],
            ),
        ],
    )


def forbidden(message: str) -> html.Div:
    return html.Div(className="panel forbidden", children=[html.H1("Not allowed"), html.P(message)])
