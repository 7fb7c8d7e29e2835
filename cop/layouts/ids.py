"""Every component id of the web app, in one place; browser tests read their selectors here."""

from __future__ import annotations

from enum import StrEnum


class Ids(StrEnum):
    SHELL = "cop-shell"
    HEADER = "cop-header"
    NAV = "cop-nav"
    FRESHNESS = "cop-freshness"
    FRESHNESS_LABEL = "cop-freshness-label"
    FRESHNESS_DETAIL = "cop-freshness-detail"
    CLOCK = "cop-clock"
    USER = "cop-user"
    LOGOUT = "cop-logout"
    PAGE = "cop-page"
    STATUS_PANEL = "cop-status-panel"
    FEEDS = "cop-feeds"
    EXERCISE_BANNER = "cop-exercise-banner"

    MAP = "cop-map"
    MAP_PAGE = "cop-map-page"
    MAP_TOOLBAR = "cop-map-toolbar"
    LAYERS = "cop-layers"
    PROVINCE_FILTER = "cop-province-filter"
    PROVINCE_FILTER_APPLIED = "cop-province-filter-applied"
    UNIT_PANEL = "cop-unit-panel"
    STALE_COUNT = "cop-stale-count"
    UNITS_SHOWN = "cop-units-shown"
    LEGEND = "cop-legend"
    ZONE_PANEL = "cop-zone-panel"
    ZONE_DRAW = "cop-zone-draw"
    ZONE_DRAWN_KEYS = "cop-zone-drawn-keys"

    CHEM_PANEL = "cop-chem-panel"
    CHEM_INCIDENT = "cop-chem-incident"
    CHEM_INCIDENT_APPLIED = "cop-chem-incident-applied"
    CHEM_PLATFORMS = "cop-chem-platforms"
    CHEM_CHART = "cop-chem-chart"
    PLUME_SUMMARY = "cop-plume-summary"
    PLUME_SUBSTANCE = "cop-plume-substance"
    PLUME_RATE = "cop-plume-rate"
    PLUME_ESTIMATE = "cop-plume-estimate"
    PLUME_HEIGHT = "cop-plume-height"
    PLUME_WIND_SPEED = "cop-plume-wind-speed"
    PLUME_WIND_FROM = "cop-plume-wind-from"
    PLUME_STABILITY = "cop-plume-stability"
    PLUME_SKY = "cop-plume-sky"
    PLUME_TERRAIN = "cop-plume-terrain"
    PLUME_RUN = "cop-plume-run"
    PLUME_MESSAGE = "cop-plume-message"
    ZONE_LIST = "cop-zone-list"
    ZONE_TYPE = "cop-zone-type"
    ZONES_FROM_PLUME = "cop-zones-from-plume"
    ZONES_BUFFER = "cop-zones-buffer"
    ZONE_MESSAGE = "cop-zone-message"

    HOSPITALS_PAGE = "cop-hospitals-page"
    HOSPITAL_GRID = "cop-hospital-grid"
    HOSPITAL_TOTALS = "cop-hospital-totals"
    HOSPITAL_CHART = "cop-hospital-chart"
    HOSPITAL_PROVINCE = "cop-hospital-province"
    HOSPITAL_BED_TYPE = "cop-hospital-bed-type"
    HOSPITAL_EXPORT = "cop-hospital-export"
    HOSPITAL_FORM = "cop-hospital-form"
    HOSPITAL_SAVE = "cop-hospital-save"
    HOSPITAL_SAVED = "cop-hospital-saved"
    HOSPITAL_EMS = "cop-hospital-ems"
    HOSPITAL_COMMENT = "cop-hospital-comment"

    RISK_PAGE = "cop-risk-page"
    RISK_TILES = "cop-risk-tiles"
    RISK_MAP = "cop-risk-map"
    RISK_CHANGES = "cop-risk-changes"
    RISK_CHARTS = "cop-risk-charts"
    ALERT_LIST = "cop-alert-list"
    ALERT_FORM = "cop-alert-form"
    ALERT_EVENT = "cop-alert-event"
    ALERT_CATEGORY = "cop-alert-category"
    ALERT_URGENCY = "cop-alert-urgency"
    ALERT_SEVERITY = "cop-alert-severity"
    ALERT_CERTAINTY = "cop-alert-certainty"
    ALERT_PROVINCES = "cop-alert-provinces"
    ALERT_MAP = "cop-alert-map"
    ALERT_DRAW = "cop-alert-draw"
    ALERT_EXPIRES = "cop-alert-expires"
    ALERT_EXERCISE = "cop-alert-exercise"
    ALERT_SUBMIT = "cop-alert-submit"
    ALERT_MESSAGE = "cop-alert-message"

    LOG_PAGE = "cop-log-page"
    LOG_INCIDENT = "cop-log-incident"
    LOG_HEADER = "cop-log-header"
    LOG_DISCIPLINE = "cop-log-discipline"
    LOG_CATEGORY = "cop-log-category"
    LOG_AUTHOR = "cop-log-author"
    LOG_HOURS = "cop-log-hours"
    LOG_SEARCH = "cop-log-search"
    LOG_ENTRIES = "cop-log-entries"
    LOG_COUNT = "cop-log-count"
    LOG_VERSION = "cop-log-version"
    LOG_EXPORT_CSV = "cop-log-export-csv"
    LOG_EXPORT_HTML = "cop-log-export-html"
    LOG_FORM = "cop-log-form"
    LOG_NEW_DISCIPLINE = "cop-log-new-discipline"
    LOG_NEW_CATEGORY = "cop-log-new-category"
    LOG_NEW_PRIORITY = "cop-log-new-priority"
    LOG_NEW_EVENT_TIME = "cop-log-new-event-time"
    LOG_NEW_TEXT = "cop-log-new-text"
    LOG_NEW_LAT = "cop-log-new-lat"
    LOG_NEW_LON = "cop-log-new-lon"
    LOG_NEW_LINKS = "cop-log-new-links"
    LOG_NEW_CORRECTS = "cop-log-new-corrects"
    LOG_SUBMIT = "cop-log-submit"
    LOG_MESSAGE = "cop-log-message"
    LOG_PHASE = "cop-log-phase"
    LOG_STATUS = "cop-log-status"
    LOG_INCIDENT_SAVE = "cop-log-incident-save"
    LOG_INCIDENT_MESSAGE = "cop-log-incident-message"

    SITREP_PAGE = "cop-sitrep-page"
    SITREP_INCIDENT = "cop-sitrep-incident"
    SITREP_GENERATE = "cop-sitrep-generate"
    SITREP_DRAFT = "cop-sitrep-draft"
    SITREP_SAVE = "cop-sitrep-save"
    SITREP_PUBLISH = "cop-sitrep-publish"
    SITREP_MESSAGE = "cop-sitrep-message"
    SITREP_PUBLISHED = "cop-sitrep-published"
    SITREP_COMPARE_A = "cop-sitrep-compare-a"
    SITREP_COMPARE_B = "cop-sitrep-compare-b"
    SITREP_CHANGES = "cop-sitrep-changes"

    WALL_TICKER = "cop-wall-ticker"
    WALL_PHASE = "cop-wall-phase"
    WALL_RISK = "cop-wall-risk"
    WALL = "cop-wall"
    WALL_BANNER = "cop-wall-banner"
    WALL_CLOCK = "cop-wall-clock"
    WALL_COUNTS = "cop-wall-counts"
    WALL_STATUS_COUNTS = "cop-wall-status-counts"


def nav_link_id(page: str) -> str:
    return f"cop-nav-{page}"


def count_id(kind: str) -> str:
    """The element showing how many entities of a kind the browser holds."""
    return f"cop-count-{kind}"


def selector(component_id: str) -> str:
    """CSS selector of a component id (for browser tests)."""
    return f"#{component_id}"


def layer_id(key: str) -> str:
    """The placeholder LayerGroup of a map layer (its Leaflet object is filled by assets/ JS)."""
    return f"cop-layer-{key}"


def discipline_count_id(discipline: str) -> str:
    return f"cop-count-discipline-{discipline}"


def risk_chart_id(indicator: str) -> str:
    """The history chart of one indicator on the risk page."""
    return f"cop-risk-chart-{indicator}"


def alert_text_id(language: str, part: str) -> str:
    """One text input of the alert draft: `part` is headline, description or instruction."""
    return f"cop-alert-{part}-{language}"


def narrative_id(section: str) -> str:
    return f"cop-sitrep-narrative-{section}"


def buffer_input_id(zone_type: str) -> str:
    """The radius input (metres) of one buffer zone."""
    return f"cop-buffer-{zone_type}"


def bed_input_id(bed_type: str, field: str) -> dict[str, str]:
    """Pattern-matching id of one count input of the hospital form."""
    return {"type": "cop-bed-input", "bed": bed_type, "field": field}
