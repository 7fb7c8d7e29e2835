"""The built component trees of the map and wall (no browser): layers, basemap, scope defaults."""

from datetime import UTC, datetime

import dash_leaflet as dl
from dash import dcc, html

from cop.domain.users import Role, User
from cop.layouts.ids import Ids
from cop.layouts.map import map_page
from cop.layouts.wall import wall_page

NOW = datetime(2026, 11, 21, tzinfo=UTC)


def walk(component):
    yield component
    children = getattr(component, "children", None)
    if children is None:
        return
    for child in children if isinstance(children, list | tuple) else [children]:
        if hasattr(child, "to_plotly_json"):
            yield from walk(child)


def find(tree, kind):
    return [c for c in walk(tree) if isinstance(c, kind)]


def test_map_is_offline_unless_a_tile_url_is_set():
    assert find(map_page(None, None, 120), dl.TileLayer) == []
    tiles = find(map_page(None, "http://tiles.local/{z}/{x}/{y}.png", 120), dl.TileLayer)
    assert [t.url for t in tiles] == ["http://tiles.local/{z}/{x}/{y}.png"]
    urls = [g.url for g in find(map_page(None, None, 120), dl.GeoJSON)]
    assert urls == [
        "/geo/be_country.geojson",
        "/geo/be_provinces.geojson",
        "/geo/be_municipalities_2025.geojson",
    ]


def test_every_layer_is_in_the_layers_control_and_units_draw_on_canvas():
    tree = map_page(None, None, 120)
    (control,) = find(tree, dl.LayersControl)
    names = [o.name for o in control.children]
    assert [n[:14] for n in names[:5]] == [f"Resources · D{i}" for i in range(1, 6)]
    for expected in (
        "Hospitals",
        "Critical sites",
        "Nuclear planning zones (pre-planned)",
        "Command posts",
        "Chemical readings",
        "Plumes",
        "Intervention zones",
    ):
        assert expected in names
    assert control.overlays == [o.name for o in control.children if o.checked]
    (leaflet_map,) = find(tree, dl.Map)
    assert leaflet_map.preferCanvas is True
    assert len([c for c in find(tree, dl.Circle)]) >= 2 * 5  # planning-zone rings


def test_a_coordinator_starts_on_their_provinces_and_can_only_pick_them():
    coordinator = User(username="lg", role=Role.COORDINATOR, created_at=NOW, provinces=frozenset({"60000"}))
    (dropdown,) = [
        c for c in find(map_page(coordinator, None, 120), dcc.Dropdown) if c.id == Ids.PROVINCE_FILTER
    ]
    assert dropdown.value == ["60000"]
    assert [o["value"] for o in dropdown.options] == ["60000"]
    analyst = User(username="an", role=Role.ANALYST, created_at=NOW)
    (national,) = [c for c in find(map_page(analyst, None, 120), dcc.Dropdown) if c.id == Ids.PROVINCE_FILTER]
    assert national.value == [] and len(national.options) == 11


def test_only_those_who_may_change_an_incident_get_the_drawing_tools_and_forms():
    from cop.layouts.chem import IncidentChoice

    def page(editable: bool) -> html.Div:
        user = User(username="lg", role=Role.COORDINATOR, created_at=NOW, provinces=frozenset({"70000"}))
        return map_page(user, None, 120, [IncidentChoice("inc-1", "Chlorine", True, editable)])

    ids = {getattr(c, "id", None) for c in find(page(True), object)}
    assert {Ids.ZONE_DRAW, Ids.PLUME_RUN, Ids.ZONES_BUFFER, Ids.CHEM_CHART} <= ids
    ids = {getattr(c, "id", None) for c in find(page(False), object)}
    assert Ids.CHEM_CHART in ids and not {Ids.ZONE_DRAW, Ids.PLUME_RUN, Ids.ZONES_BUFFER} & ids
    (incident,) = [c for c in find(page(False), dcc.Dropdown) if c.id == Ids.CHEM_INCIDENT]
    assert incident.options == [{"label": "Chlorine (EXERCISE)", "value": "inc-1"}]


def test_the_wall_map_takes_no_interaction():
    (leaflet_map,) = find(wall_page(None, 120), dl.Map)
    assert leaflet_map.dragging is False and leaflet_map.scrollWheelZoom is False
    assert leaflet_map.zoomControl is False
