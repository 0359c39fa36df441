"""How sections are shown: « Société » for the folded name ``societe``."""

from __future__ import annotations

from newssearch.schema import facet_key

# Sections as the French press names them; any other is shown as written, capitalised.
LABELS = {
    "societe": "Société", "france": "France", "monde": "Monde", "politique": "Politique",
    "economie": "Économie", "international": "International", "sport": "Sport",
    "sports": "Sports", "culture": "Culture", "sciences": "Sciences", "science": "Science",
    "sante": "Santé", "education": "Éducation", "environnement": "Environnement",
    "planete": "Planète", "tech": "Tech", "technologie": "Technologie", "medias": "Médias",
    "justice": "Justice", "faits divers": "Faits divers", "people": "People",
    "regions": "Régions", "idees": "Idées", "opinions": "Opinions", "europe": "Europe",
    "immobilier": "Immobilier", "emploi": "Emploi", "auto": "Auto", "lifestyle": "Lifestyle",
    "insolite": "Insolite", "high tech": "High-tech", "high-tech": "High-tech",
}


def section_label(name: str) -> str:
    """The display name of a section."""
    known = LABELS.get(facet_key(name))
    if known:
        return known
    return name[:1].upper() + name[1:] if name else name
