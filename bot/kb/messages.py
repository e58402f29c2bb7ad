"""Validation messages shown to staff (in French), kept together in one place."""

MESSAGES = {
    "yaml": "YAML mal formé : {detail}. Vérifiez l'indentation (2 espaces) et mettez entre guillemets les textes qui contiennent « : ».",
    "not_list": "la clé « {key} » doit contenir une liste d'éléments commençant par « - ».",
    "not_mapping": "chaque élément doit être un ensemble de champs (id, formation, topic…).",
    "missing": "champ obligatoire « {field} » manquant : ajoutez-le.",
    "empty": "le champ « {field} » est vide : écrivez un texte.",
    "bad_id": "identifiant « {value} » invalide : utilisez formation.sujet.detail en minuscules sans accents (ex. deis.frais.selection).",
    "duplicate_id": "l'identifiant « {value} » existe déjà ({other}) : choisissez un identifiant unique.",
    "unknown_formation": "formation inconnue « {value} » : utilisez l'une de {allowed}.",
    "unknown_topic": "sujet inconnu « {value} » : utilisez l'un de {allowed}.",
    "unknown_parcours": "parcours inconnu « {value} » : utilisez l'un de {allowed}.",
    "unknown_source": "source inconnue « {value} » : utilisez l'une de {allowed} (voir knowledge/sources.yml).",
    "no_sources": "aucune source : indiquez au moins un document (champ sources, avec doc et section).",
    "too_long": "réponse trop longue ({length} caractères, maximum {limit}) : raccourcissez-la ou découpez-la en deux fiches.",
    "duplicate_question": "la question « {value} » figure aussi dans la fiche {other} : gardez-la dans une seule fiche.",
    "missing_file": "fichier introuvable : {value}.",
    "bad_url": "lien « {value} » refusé : seuls les liens commençant par http:// ou https:// sont affichés aux visiteurs.",
    "no_entries": "aucune fiche trouvée dans {value}.",
}
