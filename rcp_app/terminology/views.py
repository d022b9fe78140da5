"""Terminology pages: the type-ahead JSON endpoint and the administrators' value-set list."""

from __future__ import annotations

from flask import Blueprint, current_app, jsonify, render_template, request
from sqlalchemy import func, or_, select

from ..access.guards import allowed
from ..core.converters import parse_int
from ..core.pagination import paginate, parse_page
from ..core.patient_data import no_patient_data
from ..extensions import db
from .models import SOURCES, Concept, ValueSet
from .search import DEFAULT_LIMIT, MAX_LIMIT, MAX_QUERY, search_concepts
from .svs import MAX_NAME

bp = Blueprint("terminology", __name__)


def _bad_request(message: str):
    return jsonify({"error": message}), 400


@bp.route("/terminologie/recherche")
@no_patient_data
@allowed("terminology.view")
def search():
    """GET ?jeu=<value set>&q=<text>&limite=<1..50> → [{"code", "label"}, …] (JSON)."""
    name = request.args.get("jeu", "").strip()
    query = " ".join(request.args.get("q", "").split())
    raw_limit = request.args.get("limite", "").strip()
    if not name:
        return _bad_request("Le paramètre « jeu » (nom du jeu de valeurs) est obligatoire.")
    if len(name) > MAX_NAME:
        return _bad_request("Le paramètre « jeu » est trop long.")
    if not query:
        return _bad_request("Le paramètre « q » (texte recherché) est obligatoire.")
    if len(query) > MAX_QUERY:
        return _bad_request(f"Le texte recherché est trop long ({MAX_QUERY} caractères au plus).")
    limit = DEFAULT_LIMIT
    if raw_limit:
        limit = parse_int(raw_limit, 1, MAX_LIMIT)
        if limit is None:
            return _bad_request(
                f"Le paramètre « limite » doit être un nombre entier entre 1 et {MAX_LIMIT}."
            )
    if db.session.scalar(select(ValueSet.id).where(ValueSet.name == name)) is None:
        return jsonify({"error": f"Jeu de valeurs inconnu : « {name} »."}), 404
    concepts = search_concepts(name, query, limit)
    return jsonify([{"code": c.code, "label": c.label} for c in concepts])


@bp.route("/admin/terminologies")
@no_patient_data
@allowed("terminology.admin")
def index():
    query = " ".join(request.args.get("q", "").split())[:MAX_NAME]
    source = request.args.get("source", "")
    stmt = select(ValueSet).order_by(ValueSet.name)
    if query:
        escaped = query.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        pattern = f"%{escaped}%"
        stmt = stmt.where(
            or_(ValueSet.name.ilike(pattern, escape="\\"), ValueSet.oid.like(pattern, escape="\\"))
        )
    if source in SOURCES:
        stmt = stmt.where(ValueSet.source == source)
    else:
        source = ""
    page = paginate(stmt, parse_page(request.args.get("page")), current_app.config["RCP_PAGE_SIZE"])
    names = [value_set.name for value_set in page.items]
    counts = {
        name: (total, retired)
        for name, total, retired in db.session.execute(
            select(Concept.value_set, func.count(), func.count(Concept.retired_at))
            .where(Concept.value_set.in_(names))
            .group_by(Concept.value_set)
        )
    }
    totals = db.session.execute(
        select(func.count(), func.count(Concept.retired_at)).select_from(Concept)
    ).one()
    return render_template(
        "terminology/index.html",
        page=page,
        counts=counts,
        q=query,
        source=source,
        sources=SOURCES,
        value_set_count=db.session.scalar(select(func.count()).select_from(ValueSet)),
        concept_total=totals[0],
        concept_retired=totals[1],
    )
