"""The live map: offline basemap, every layer in one control, live units drawn by assets/cop-map.js."""

from __future__ import annotations

from dataclasses import dataclass

import dash_leaflet as dl
from dash import dcc, html

from cop.domain.positions import DISCIPLINE_COLOURS, DISCIPLINE_NAMES, DISCIPLINES
from cop.domain.users import User
from cop.geo.boundaries import province_label_points
from cop.geo.reference import ATTRIBUTION, provinces
from cop.geo.sites import critical_sites
from cop.layouts.chem import IncidentChoice, chem_panel, draw_control
from cop.layouts.ids import Ids, discipline_count_id, layer_id

BELGIUM_CENTER = (50.55, 4.65)
BELGIUM_BOUNDS = ((49.45, 2.5), (51.55, 6.45))
GEO_URL = "/geo/{name}"

SITE_STYLE = {
    "airport": ("#9ecbff", "Airport"),
    "nuclear": ("#ffd33d", "Nuclear site"),
    "nuclear_foreign": ("#ffd33d", "Nuclear site (abroad)"),
    "seaport": ("#79c0ff", "Port"),
    "inland_port": ("#79c0ff", "Inland port"),
}


@dataclass(frozen=True, slots=True)
class LayerSpec:
    key: str
    name: str
    checked: bool = True


def resource_layers() -> list[LayerSpec]:
    return [LayerSpec(f"resources-{d}", f"Resources · {d} {DISCIPLINE_NAMES[d]}") for d in DISCIPLINES]


# Layers filled live by the JS in assets/ (resources) or by later capabilities (empty until then).
LIVE_LAYERS: tuple[LayerSpec, ...] = (
    LayerSpec("command-posts", "Command posts"),
    LayerSpec("chem", "Chemical readings"),
    LayerSpec("plumes", "Plumes"),
    LayerSpec("zones", "Intervention zones"),
    LayerSpec("alerts", "Public alerts (CAP)"),
    LayerSpec("logbook", "Logbook entries"),
)


def live_group(key: str) -> dl.LayerGroup:
    """An empty LayerGroup whose Leaflet object assets/cop-map.js receives when it is added."""
    return dl.LayerGroup(
        id=layer_id(key),
        eventHandlers={"add": {"variable": "COP.liveMap.onLayerAdd"}},
    )


def basemap(tile_url: str | None) -> list[object]:
    """Boundaries from the shipped data (works offline); a raster tile layer only if configured."""
    layers: list[object] = []
    if tile_url:
        layers.append(dl.TileLayer(url=tile_url, attribution="Tiles: see COP_TILE_URL provider"))
    layers += [
        dl.Pane(
            name="basemap",
            style={"zIndex": 250},
            children=[
                dl.GeoJSON(
                    url=GEO_URL.format(name="be_country.geojson"),
                    style={"color": "#6e7f91", "weight": 2, "fillColor": "#1b2836", "fillOpacity": 0.9},
                    interactive=False,
                    id="cop-basemap-country",
                ),
                dl.GeoJSON(
                    url=GEO_URL.format(name="be_provinces.geojson"),
                    style={"color": "#8aa0b6", "weight": 1.4, "fillOpacity": 0},
                    interactive=False,
                    id="cop-basemap-provinces",
                ),
            ],
        ),
        dl.Pane(
            name="municipalities",
            style={"zIndex": 260},
            children=dl.GeoJSON(
                url=GEO_URL.format(name="be_municipalities_2025.geojson"),
                style={"color": "#4a5d70", "weight": 0.6, "fillOpacity": 0},
                interactive=False,
                id="cop-basemap-municipalities",
            ),
        ),
    ]
    return layers


def province_labels() -> list[dl.DivMarker]:
    names = provinces()
    return [
        dl.DivMarker(
            position=list(point),
            interactive=False,
            iconOptions={
                "className": "province-label",
                "html": names[code].name_en,
                "iconSize": [160, 20],
                "iconAnchor": [80, 10],
            },
        )
        for code, point in province_label_points().items()
    ]


def site_layers() -> tuple[dl.LayerGroup, dl.LayerGroup]:
    """Critical sites, and the nuclear planning-zone circles (pre-planned, drawn dashed)."""
    markers = []
    zones = []
    for site in critical_sites():
        colour, label = SITE_STYLE[site.category]
        note = " (approximate position)" if site.approximate else ""
        markers.append(
            dl.CircleMarker(
                center=[site.lat, site.lon],
                radius=6 if site.category.startswith("nuclear") else 4,
                color="#0f1720",
                weight=1,
                fillColor=colour,
                fillOpacity=1,
                children=dl.Tooltip(f"{label}: {site.name}{note}"),
            )
        )
        if site.zones is not None:
            rings = [("sheltering / iodine", site.zones.sheltering_km, "#ffd33d")]
            if site.zones.evacuation_km:
                rings.append(("evacuation", site.zones.evacuation_km, "#ff7b72"))
            for name, radius_km, colour in rings:
                zones.append(
                    dl.Circle(
                        center=[site.lat, site.lon],
                        radius=radius_km * 1000,
                        color=colour,
                        weight=1.2,
                        dashArray="6 6",
                        fill=False,
                        interactive=False,
                        children=dl.Tooltip(f"{site.name}: {name} planning zone {radius_km:g} km"),
                    )
                )
    return (
        dl.LayerGroup(id=layer_id("sites"), children=markers),
        dl.LayerGroup(id=layer_id("nuclear-zones"), children=zones),
    )


def layers_control(mode: str) -> dl.LayersControl:
    sites, nuclear_zones = site_layers()
    overlays = [dl.Overlay(live_group(spec.key), name=spec.name, checked=True) for spec in resource_layers()]
    overlays += [
        dl.Overlay(live_group("hospitals"), name="Hospitals", checked=True),
        dl.Overlay(sites, name="Critical sites", checked=True),
        dl.Overlay(nuclear_zones, name="Nuclear planning zones (pre-planned)", checked=mode == "desk"),
    ]
    overlays += [
        dl.Overlay(live_group(spec.key), name=spec.name, checked=spec.checked) for spec in LIVE_LAYERS
    ]
    # `overlays` must start as the list of checked names: dash-leaflet edits it on every toggle.
    checked = [overlay.name for overlay in overlays if overlay.checked]
    return dl.LayersControl(
        overlays, id=Ids.LAYERS, overlays=checked, collapsed=mode == "wall", position="topright"
    )


def live_map(mode: str, tile_url: str | None, stale_after_s: float, drawing: bool = False) -> html.Div:
    """The map itself; `mode` is "desk" (interactive) or "wall" (no interaction). `drawing` adds
    the zone drawing tools (for those who may change an incident's zones)."""
    interactive = mode == "desk"
    return html.Div(
        className=f"map-frame map-{mode}",
        **{"data-stale-after-s": str(stale_after_s), "data-mode": mode},
        children=dl.Map(
            id=Ids.MAP,
            center=list(BELGIUM_CENTER),
            zoom=8,
            # The wall fits Belgium to whatever screen it is on (1080p to 2160p).
            bounds=[list(BELGIUM_BOUNDS[0]), list(BELGIUM_BOUNDS[1])] if mode == "wall" else None,
            zoomSnap=0.25 if mode == "wall" else 1,
            minZoom=7,
            maxZoom=16,
            maxBounds=[[48.5, 0.5], [52.5, 8.5]],
            preferCanvas=True,
            zoomControl=interactive,
            dragging=interactive,
            scrollWheelZoom=interactive,
            doubleClickZoom=interactive,
            keyboard=interactive,
            attributionControl=True,
            style={"height": "100%", "width": "100%", "background": "#0b1118"},
            children=[
                *basemap(tile_url),
                *province_labels(),
                layers_control(mode),
                *([draw_control()] if drawing else []),
                dl.ScaleControl(position="bottomleft", imperial=False),
                dl.AttributionControl(prefix=ATTRIBUTION, position="bottomright"),
            ],
        ),
    )


def legend() -> html.Div:
    return html.Div(
        id=Ids.LEGEND,
        className="legend",
        children=[
            html.Div(
                className="legend-item",
                children=[
                    html.Span(className="legend-dot", style={"background": DISCIPLINE_COLOURS[d]}),
                    html.Span(f"{d}", className="legend-code"),
                    html.Span("0", id=discipline_count_id(d), className="legend-count"),
                ],
                title=DISCIPLINE_NAMES[d],
            )
            for d in DISCIPLINES
        ],
    )


def province_filter(user: User | None) -> dcc.Dropdown:
    """Coordinators start on their provinces; the server never sends them others anyway."""
    names = provinces()
    scoped = sorted(user.provinces) if user and not user.national else []
    allowed = scoped or list(names)
    return dcc.Dropdown(
        id=Ids.PROVINCE_FILTER,
        options=[{"label": names[code].name_en, "value": code} for code in allowed],
        value=scoped,
        multi=True,
        placeholder="All provinces",
        className="province-filter",
    )


def map_page(
    user: User | None,
    tile_url: str | None,
    stale_after_s: float,
    incidents: list[IncidentChoice] | None = None,
) -> html.Div:
    incidents = incidents or []
    return html.Div(
        id=Ids.MAP_PAGE,
        className="map-page",
        children=[
            html.Div(
                id=Ids.MAP_TOOLBAR,
                className="map-toolbar",
                children=[
                    province_filter(user),
                    legend(),
                    html.Div(
                        className="map-figures",
                        children=[
                            html.Span("0", id=Ids.UNITS_SHOWN, className="figure"),
                            html.Span(" units shown · "),
                            html.Span("0", id=Ids.STALE_COUNT, className="figure stale-figure"),
                            html.Span(f" not heard from for {stale_after_s:.0f} s"),
                        ],
                    ),
                    dcc.Store(id=Ids.PROVINCE_FILTER_APPLIED),
                ],
            ),
            html.Div(
                className="map-body",
                children=[
                    html.Div(
                        className="map-stage",
                        children=[
                            live_map(
                                "desk", tile_url, stale_after_s, drawing=any(i.editable for i in incidents)
                            ),
                            html.Aside(id=Ids.UNIT_PANEL, className="unit-panel", hidden=True),
                            html.Aside(id=Ids.ZONE_PANEL, className="zone-panel", hidden=True),
                        ],
                    ),
                    chem_panel(incidents),
                ],
            ),
        ],
    )
