"""Surnames for the benchmark's patients: the demo's list plus common French surnames.

Frequencies follow a Zipf-like law over this list (bench/data.py), so that a few names are
very common (hundreds of patients per name at 100,000 patients) and most are rare, as in a
real patient file. Fictional patients: no real person is described.
"""

from rcp_app.demo.patient_data import LAST_NAMES

# fmt: off
EXTRA_LAST_NAMES = [
    "Lefebvre", "Marchand", "Marie", "Barbier", "Arnaud", "Martinez", "Caron", "Boucher",
    "Aubert", "Carpentier", "Rolland", "Renaud", "Bailly", "Colin", "Bourgeois", "Dumas",
    "Brun", "Gaillard", "Aubry", "Hubert", "Lecomte", "Maillard", "Riviere", "Hoarau", "Payet",
    "Fabre", "Poulain", "Jacquet", "Charpentier", "Sanchez", "Prévost", "Perret", "Collet",
    "Huet", "Benoît", "Leclercq", "Cordier", "Lebrun", "Tessier", "Lemaître", "Germain",
    "Millet", "Laine", "Besson", "Rey", "Marty", "Baron", "Bertin", "Gilbert", "Leblanc",
    "Paris", "Langlois", "Perrot", "Collin", "Bouvier", "Pierre", "Chauvin", "Vasseur", "Weber",
    "Léger", "Lebon", "Daniel", "Humbert", "Guillot", "Camus", "Gautier", "Marechal", "Bouchet",
    "Lemaitre", "Bonnin", "Jacob", "Blin", "Carré", "Barré", "Cousin", "Laurent-Perrin",
    "Brunel", "Poirier", "Pelletier", "Guillaume", "Hamon", "Gaudin", "Renault", "Leger",
    "Bérard", "Béranger", "Bénédetti", "Bénézet", "Bénard-Lopez", "Lefèbvre", "Lefébure",
    "Lefeuvre", "Le Floch", "Le Roux", "Le Corre", "Le Guen", "Le Meur", "Le Berre", "Kerbrat",
    "Quéméner", "Guégan", "Coquelin", "Côté", "Émery", "Étienne", "Évrard", "Éloi", "Ézanno",
    "Œuvrard", "Thibault", "Thébault", "Théodore", "Gérault", "Géraud", "Grégoire", "Hénault",
    "Hérault", "Josué", "Lévêque", "Mérieux", "Nöel", "Pécresse", "Régnier", "Sénéchal",
    "Vérin", "Zéphir", "Abdelkader", "Belkacem", "Bouaziz", "Cherif", "Hamidi", "Khelifi",
    "Mansouri", "Saïdi", "Ziani", "Diop", "Ndiaye", "Sow", "Cissé", "Konaté", "Nguyen Van",
    "Tran Thi", "Lê", "Võ", "Da Costa", "Dos Santos", "Pereira", "Rodrigues", "Fernandes",
    "Martins", "Lopes", "Schneider", "Klein", "Wagner", "Fischer", "Becker", "Hoffmann",
    "Zimmermann", "Dupont-Aignan", "Saint-Martin", "De La Fontaine", "Du Pont", "D'Almeida",
    "L'Hôte", "Mac Leod", "O'Neill", "Van der Berg", "Vandenberghe", "Delacroix", "Delattre",
    "Deschamps", "Desmoulins", "Dubreuil", "Duchêne", "Dufresne", "Dumoulin", "Duret",
    "Fauré", "Forestier", "Fouché", "Giraudeau", "Gosselin", "Grenier", "Guichard", "Guyot",
    "Jourdan", "Labbé", "Lacombe", "Lafont", "Lamy", "Lebreton", "Lemonnier", "Lenoir",
    "Leroi", "Loiseau", "Marin", "Maurice", "Michaud", "Moulin", "Navarro", "Olivier",
    "Pasquier", "Poulet", "Raynaud", "Rigaud", "Roger", "Royer", "Salmon", "Tanguy", "Texier",
    "Tournier", "Vallée", "Verdier", "Vial", "Villard",
]
# fmt: on

LAST_NAMES_BY_RANK: list[str] = list(dict.fromkeys([*LAST_NAMES, *EXTRA_LAST_NAMES]))
