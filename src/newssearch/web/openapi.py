"""The OpenAPI 3 description of the JSON API."""

from __future__ import annotations

_ERROR = {"type": "object", "required": ["error"], "additionalProperties": False,
          "properties": {"error": {
              "type": "object", "required": ["code", "message"], "additionalProperties": False,
              "properties": {"code": {"type": "string"}, "message": {"type": "string"}}}}}
_DATE = {"type": ["string", "null"], "format": "date"}
_HIT = {
    "type": "object",
    "required": ["id", "title", "title_html", "snippet_html", "url", "date", "source",
                 "section", "score", "duplicates"],
    "properties": {
        "id": {"type": "string"}, "title": {"type": "string"},
        "title_html": {"type": "string"}, "snippet_html": {"type": "string"},
        "url": {"type": "string"}, "date": _DATE, "source": {"type": "string"},
        "section": {"type": "string"}, "score": {"type": "number"},
        "duplicates": {"type": "integer", "minimum": 0}},
}
_FACET = {"type": "array", "items": {
    "type": "object", "required": ["value", "count", "label"],
    "properties": {"value": {"type": "string"}, "count": {"type": "integer", "minimum": 1},
                   "label": {"type": "string"}}}}
_PERIOD = {"type": "object", "required": ["period", "count"],
           "properties": {"period": {"type": "string", "pattern": r"^\d{4}(-\d{2})?$"},
                          "count": {"type": "integer", "minimum": 0}}}
_SORTS = {"type": "string", "enum": ["relevance", "date", "date_asc"]}
_DAY = {"type": "string", "pattern": r"^(\d{4}(-\d{2}(-\d{2})?)?|(\d{2}/)?\d{2}/\d{4})$",
        "description": "AAAA, AAAA-MM, AAAA-MM-JJ, MM/AAAA ou JJ/MM/AAAA"}
_PAGE = {
    "type": "object",
    "required": ["query", "total", "page", "per_page", "pages", "sort", "took_ms", "hits",
                 "suggestion", "notices", "facets", "histogram", "corrected_from"],
    "properties": {
        "query": {"type": "string"}, "total": {"type": "integer", "minimum": 0},
        "page": {"type": "integer", "minimum": 1},
        "per_page": {"type": "integer", "minimum": 1, "maximum": 100},
        "pages": {"type": "integer", "minimum": 0},
        "sort": _SORTS,
        "took_ms": {"type": "number", "minimum": 0},
        "hits": {"type": "array", "items": _HIT},
        "suggestion": {"oneOf": [{"type": "null"}, {
            "type": "object", "required": ["text", "html", "total"],
            "properties": {"text": {"type": "string"}, "html": {"type": "string"},
                           "total": {"type": "integer", "minimum": 0}}}]},
        "notices": {"type": "array", "items": {"type": "string"}},
        "facets": {"type": "object", "required": ["section", "source", "year"],
                   "properties": {"section": _FACET, "source": _FACET, "year": _FACET}},
        "histogram": {"type": "array", "items": _PERIOD},
        "corrected_from": {"type": ["string", "null"]},
    },
}
_ARTICLE = {
    "type": "object",
    "required": ["id", "title", "title_html", "lede_html", "body_html", "url", "date",
                 "source", "section", "tags"],
    "properties": {
        "id": {"type": "string"}, "title": {"type": "string"},
        "title_html": {"type": "string"}, "lede_html": {"type": "string"},
        "body_html": {"type": "string"}, "url": {"type": "string"}, "date": _DATE,
        "source": {"type": "string"}, "section": {"type": "string"},
        "tags": {"type": "array", "items": {"type": "string"}}},
}


def _json(schema: dict, description: str) -> dict:
    return {"description": description, "content": {"application/json": {"schema": schema}}}


def _param(name: str, schema: dict, description: str) -> dict:
    return {"name": name, "in": "query", "required": False, "schema": schema,
            "description": description}


_ID = {"name": "id", "in": "path", "required": True, "schema": {"type": "string"}}
_ERRORS = {"400": _json(_ERROR, "Paramètre invalide"),
           "503": _json(_ERROR, "Index indisponible")}

SPEC = {
    "openapi": "3.1.0",
    "info": {"title": "newssearch", "version": "1",
             "description": "Recherche plein texte dans des articles de presse en français."},
    "paths": {
        "/api/search": {"get": {
            "summary": "Chercher des articles",
            "parameters": [
                _param("q", {"type": "string", "maxLength": 10000}, "La requête"),
                _param("page", {"type": "integer", "minimum": 1, "maximum": 1000}, "Page"),
                _param("per_page", {"type": "integer", "minimum": 1, "maximum": 100},
                       "Résultats par page"),
                _param("sort", _SORTS, "Tri : pertinence, plus récents, plus anciens"),
                _param("from", _DAY, "Depuis (un jour, un mois ou une année)"),
                _param("to", _DAY, "Jusqu’à (un jour, un mois ou une année)"),
                _param("period", {"type": "string", "enum": ["24h", "semaine", "mois", "annee"]},
                       "Période jusqu’à aujourd’hui (remplace from et to)"),
                {**_param("section", {"type": "array", "items": {"type": "string"}},
                          "Rubriques (répétable : l’une ou l’autre)"),
                 "style": "form", "explode": True},
                {**_param("source", {"type": "array", "items": {"type": "string"}},
                          "Sources (répétable : l’une ou l’autre)"),
                 "style": "form", "explode": True},
                _param("verbatim", {"type": "string", "enum": ["1"]},
                       "Chercher les mots tels quels, sans correction"),
            ],
            "responses": {"200": _json(_PAGE, "Une page de résultats"), **_ERRORS},
        }},
        "/api/suggest": {"get": {
            "summary": "Compléter le dernier mot d’une requête",
            "parameters": [_param("q", {"type": "string", "maxLength": 10000}, "Début")],
            "responses": {"200": _json({
                "type": "object", "required": ["query", "suggestions"],
                "properties": {"query": {"type": "string"},
                               "suggestions": {"type": "array", "maxItems": 8,
                                               "items": {"type": "string"}}}},
                "Complétions"), **_ERRORS},
        }},
        "/api/articles/{id}": {"get": {
            "summary": "Lire un article",
            "parameters": [_ID, _param("q", {"type": "string", "maxLength": 10000},
                                           "Mots à marquer")],
            "responses": {"200": _json(_ARTICLE, "L’article"),
                          "404": _json(_ERROR, "Article inconnu"), **_ERRORS},
        }},
        "/health": {"get": {
            "summary": "État de l’index",
            "responses": {"200": _json({
                "type": "object",
                "required": ["status", "documents", "schema_version", "built_at"],
                "properties": {"status": {"type": "string"},
                               "documents": {"type": "integer"},
                               "schema_version": {"type": "integer"},
                               "built_at": {"type": "string"}}}, "L’index répond"),
                "503": _json(_ERROR, "Index indisponible")},
        }},
    },
}

# The write API, described only when it exists (serve --api-key-file).
_ARTICLE_IN = {
    "type": "object",
    "properties": {name: {"type": "string"} for name in (
        "id", "title", "lede", "body", "text", "date", "published_time", "url", "source",
        "section")} | {"tags": {"type": ["array", "string"], "items": {"type": "string"}}},
    "description": "Les champs d’un article, comme dans un fichier .jsonl ; titre ou texte "
                   "requis.",
}
_REPORT = {
    "type": "object", "required": ["accepted", "rejected", "results"],
    "properties": {
        "accepted": {"type": "integer"}, "rejected": {"type": "integer"},
        "results": {"type": "array", "items": {
            "type": "object", "required": ["position", "id", "status", "reason", "message"],
            "properties": {"position": {"type": "integer"}, "id": {"type": ["string", "null"]},
                           "status": {"type": "string", "enum": ["accepted", "rejected"]},
                           "reason": {"type": "string"}, "message": {"type": "string"}}}}},
}
_WRITE_ERRORS = {"400": _json(_ERROR, "Corps illisible"),
                 "401": _json(_ERROR, "Clé d’API absente ou invalide"),
                 "413": _json(_ERROR, "Plus de 10 Mo ou de 1 000 articles"),
                 "503": _json(_ERROR, "Index occupé (reconstruction) ou indisponible")}
_SECURED = [{"bearer": []}]


def spec(writes: bool) -> dict:
    """The OpenAPI description of the app, with the write API when it is on."""
    if not writes:
        return SPEC
    document = {**SPEC, "paths": {**SPEC["paths"]}}
    document["components"] = {"securitySchemes": {"bearer": {
        "type": "http", "scheme": "bearer", "description": "Une clé du fichier de clés."}}}
    document["paths"]["/api/articles"] = {"post": {
        "summary": "Publier des articles (un, une liste, ou des lignes JSON)",
        "security": _SECURED,
        "requestBody": {"required": True, "content": {
            "application/json": {"schema": {"oneOf": [
                _ARTICLE_IN, {"type": "array", "items": _ARTICLE_IN, "maxItems": 1000}]}},
            "application/x-ndjson": {"schema": {"type": "string"}}}},
        "responses": {"201": _json(_REPORT, "Enregistrés et visibles"),
                      "422": _json(_REPORT, "Tous refusés"), **_WRITE_ERRORS},
    }}
    path = {**SPEC["paths"]["/api/articles/{id}"]}
    path["put"] = {
        "summary": "Créer ou remplacer un article", "security": _SECURED,
        "parameters": [_ID],
        "requestBody": {"required": True,
                        "content": {"application/json": {"schema": _ARTICLE_IN}}},
        "responses": {"200": _json(_REPORT, "Remplacé"), "201": _json(_REPORT, "Créé"),
                      "422": _json(_REPORT, "Refusé"), **_WRITE_ERRORS},
    }
    path["delete"] = {
        "summary": "Retirer un article", "security": _SECURED, "parameters": [_ID],
        "responses": {"200": _json({"type": "object", "required": ["id", "status"],
                                    "properties": {"id": {"type": "string"},
                                                   "status": {"type": "string"}}}, "Retiré"),
                      "404": _json(_ERROR, "Article inconnu"), **_WRITE_ERRORS},
    }
    document["paths"]["/api/articles/{id}"] = path
    return document
