"""Built-in organ, tumour topography and morphology concepts, typed in from the CI-SIS files.

Codes, code systems and labels are exactly those of the official value sets
(JDV_RCP_Organe_CISIS, JDV_Tumeur_CISIS, JDV_Morphologie_CISIS) so that importing the official
files updates these rows. Topography and morphology are compact subsets: the four sites the
staging module knows (breast, colon/rectum, lung, prostate) in detail, plus common others.
The organ value set is small and given whole, each organ with its appareil (``parent_code``,
which the official files do not carry).
"""

from __future__ import annotations

SNOMED = "2.16.840.1.113883.6.96"
NCIT = "2.16.840.1.113883.3.26.1.1"
ANS_ORG = "1.2.250.1.213.1.1.4.322"
CIM10 = "2.16.840.1.113883.6.3"
ICDO3 = "2.16.840.1.113883.6.43.1"

# Appareil codes (JDV_RCP_Appareil_CISIS, SNOMED CT).
BREAST = "76752008"
DIGESTIVE = "86762007"
THORACIC = "312419003"
URINARY = "122489005"
MALE_GENITAL = "90264002"
FEMALE_GENITAL = "53065001"
ENT = "119253004"
NERVOUS = "25087005"
HAEMATO = "57171008"
SKIN = "39937001"
ENDOCRINE = "387910009"
BONE = "272673000"
SOFT_TISSUE = "87784001"
EYE = "81745001"

# (code, code system, label, appareil code)
ORGANS: list[tuple[str, str, str, str]] = [
    ("76752008", SNOMED, "sein", BREAST),
    ("86762007", SNOMED, "système digestif", DIGESTIVE),
    ("MED-251", ANS_ORG, "Colon-Rectum-Anus", DIGESTIVE),
    ("32849002", SNOMED, "œsophage", DIGESTIVE),
    ("69695003", SNOMED, "estomac", DIGESTIVE),
    ("30315005", SNOMED, "intestin grêle", DIGESTIVE),
    ("303270005", SNOMED, "foie et/ou voies biliaires", DIGESTIVE),
    ("15776009", SNOMED, "pancréas", DIGESTIVE),
    ("C12664", NCIT, "Péritoine-rétropéritoine", DIGESTIVE),
    ("312419003", SNOMED, "appareil respiratoire et/ou cavité thoracique", THORACIC),
    ("MED-255", ANS_ORG, "Trachée, Bronches, Poumon", THORACIC),
    ("3120008", SNOMED, "plèvre", THORACIC),
    ("72410000", SNOMED, "médiastin", THORACIC),
    ("90264002", SNOMED, "appareil génital masculin", MALE_GENITAL),
    ("41216001", SNOMED, "prostate", MALE_GENITAL),
    ("40689003", SNOMED, "testicule", MALE_GENITAL),
    ("18911002", SNOMED, "pénis", MALE_GENITAL),
    ("122489005", SNOMED, "système urinaire", URINARY),
    ("64033007", SNOMED, "rein", URINARY),
    ("89837001", SNOMED, "vessie", URINARY),
    ("431491007", SNOMED, "voies urinaires supérieures proprement dites", URINARY),
    ("53065001", SNOMED, "appareil génital féminin", FEMALE_GENITAL),
    ("71252005", SNOMED, "col utérin", FEMALE_GENITAL),
    ("23952005", SNOMED, "corps de l'utérus", FEMALE_GENITAL),
    ("15497006", SNOMED, "ovaire", FEMALE_GENITAL),
    ("C94529", NCIT, "Vulve et vagin", FEMALE_GENITAL),
    ("119253004", SNOMED, "voie aérodigestive supérieure", ENT),
    ("74262004", SNOMED, "cavité orale", ENT),
    ("48477009", SNOMED, "lèvre de la bouche", ENT),
    ("21974007", SNOMED, "langue", ENT),
    ("54066008", SNOMED, "pharynx", ENT),
    ("4596009", SNOMED, "larynx", ENT),
    ("385294005", SNOMED, "glande salivaire", ENT),
    ("MED-237", ANS_ORG, "Fosses nasales, sinus, oreille moy/int", ENT),
    ("21483005", SNOMED, "système nerveux central", NERVOUS),
    ("84782009", SNOMED, "nerf périphérique", NERVOUS),
    ("57171008", SNOMED, "structure du système hématopoïétique", HAEMATO),
    ("C3211", NCIT, "lymphome non hodgkinien", HAEMATO),
    ("C9357", NCIT, "Lymphome de Hodgkin", HAEMATO),
    ("C3242", NCIT, "myélome à cellules plasmatiques", HAEMATO),
    ("C9300", NCIT, "leucémie aiguë", HAEMATO),
    ("C3171", NCIT, "leucémie myéloïde aiguë", HAEMATO),
    ("C3167", NCIT, "Leucémie lymphoblastique aiguë", HAEMATO),
    ("C3172", NCIT, "Leucémie myéloïde", HAEMATO),
    ("C3174", NCIT, "leucémie myéloïde chronique BCR-ABL positive", HAEMATO),
    ("C4861", NCIT, "leucémie monocytaire aiguë", HAEMATO),
    ("C3483", NCIT, "leucémie chronique", HAEMATO),
    ("C3163", NCIT, "Leucémie lymphocytique chronique", HAEMATO),
    ("C27262", NCIT, "maladies myélodysplasiques-myéloprolifératives", HAEMATO),
    ("C88", CIM10, "Maladies immunoprolifératives malignes", HAEMATO),
    ("39937001", SNOMED, "peau", SKIN),
    ("387910009", SNOMED, "glande endocrine", ENDOCRINE),
    ("69748006", SNOMED, "glande thyroïde", ENDOCRINE),
    ("23451007", SNOMED, "glande surrénale", ENDOCRINE),
    ("306721000", SNOMED, "os et/ou articulation", BONE),
    ("87784001", SNOMED, "tissus mous", SOFT_TISSUE),
    ("81745001", SNOMED, "œil", EYE),
]

# CIM-10 tumour codes (code, label), code system CIM10.
TOPOGRAPHY: list[tuple[str, str]] = [
    ("C50", "Tumeur maligne du sein"),
    ("C50.0", "Tumeur maligne du mamelon et de l'aréole"),
    ("C50.1", "Tumeur maligne de la partie centrale du sein"),
    ("C50.2", "Tumeur maligne du quadrant supéro-interne du sein"),
    ("C50.3", "Tumeur maligne du quadrant inféro-interne du sein"),
    ("C50.4", "Tumeur maligne du quadrant supéro-externe du sein"),
    ("C50.5", "Tumeur maligne du quadrant inféro-externe du sein"),
    ("C50.6", "Tumeur maligne du prolongement axillaire du sein"),
    ("C50.8", "Tumeur maligne à localisations contiguës du sein"),
    ("C50.9", "Tumeur maligne du sein, sans précision"),
    ("D05.0", "Carcinome in situ lobulaire"),
    ("D05.1", "Carcinome in situ intracanaliculaire"),
    ("C18", "Tumeur maligne du côlon"),
    ("C18.0", "Tumeur maligne du cæcum"),
    ("C18.1", "Tumeur maligne de l'appendice"),
    ("C18.2", "Tumeur maligne du côlon ascendant"),
    ("C18.3", "Tumeur maligne de l'angle droit du côlon"),
    ("C18.4", "Tumeur maligne du côlon transverse"),
    ("C18.5", "Tumeur maligne de l'angle gauche du côlon"),
    ("C18.6", "Tumeur maligne du côlon descendant"),
    ("C18.7", "Tumeur maligne du côlon sigmoïde"),
    ("C18.8", "Tumeur maligne à localisations contiguës du côlon"),
    ("C18.9", "Tumeur maligne du côlon, sans précision"),
    ("C19", "Tumeur maligne de la jonction rectosigmoïdienne"),
    ("C20", "Tumeur maligne du rectum"),
    ("C21", "Tumeur maligne de l'anus et du canal anal"),
    ("C34", "Tumeur maligne des bronches et du poumon"),
    ("C34.0", "Tumeur maligne de la bronche souche"),
    ("C34.1", "Tumeur maligne du lobe supérieur, bronches ou poumon"),
    ("C34.2", "Tumeur maligne du lobe moyen, bronches ou poumon"),
    ("C34.3", "Tumeur maligne du lobe inférieur, bronches ou poumon"),
    ("C34.8", "Tumeur maligne à localisations contiguës des bronches et du poumon"),
    ("C34.9", "Tumeur maligne de bronche ou du poumon, sans précision"),
    ("C61", "Tumeur maligne de la prostate"),
    ("C15", "Tumeur maligne de l'oesophage"),
    ("C16", "Tumeur maligne de l'estomac"),
    ("C22.0", "Carcinome hépatocellulaire"),
    ("C22.1", "Carcinome du canal biliaire intrahépatique"),
    ("C23", "Tumeur maligne de la vésicule biliaire"),
    ("C25", "Tumeur maligne du pancréas"),
    ("C10", "Tumeur maligne de l'oropharynx"),
    ("C13", "Tumeur maligne de l'hypopharynx"),
    ("C32", "Tumeur maligne du larynx"),
    ("C43", "Mélanome malin de la peau"),
    ("C44", "Autres tumeurs malignes de la peau"),
    ("C45.0", "Mésothéliome de la plèvre"),
    ("C49", "Tumeur maligne du tissu conjonctif et des autres tissus mous"),
    ("C53", "Tumeur maligne du col de l'utérus"),
    ("C54.1", "Tumeur maligne de l'endomètre"),
    ("C56", "Tumeur maligne de l'ovaire"),
    ("C62", "Tumeur maligne du testicule"),
    ("C64", "Tumeur maligne du rein, à l'exception du bassinet"),
    ("C67", "Tumeur maligne de la vessie"),
    ("C71", "Tumeur maligne de l'encéphale"),
    ("C73", "Tumeur maligne de la thyroïde"),
    ("C81", "Lymphome de Hodgkin"),
    ("C83.3", "Lymphome diffus à grandes cellules B"),
    ("C90.0", "Myélome multiple"),
    ("C92.0", "Leucémie myéloblastique aigüe [LAM]"),
    ("C78.0", "Tumeur maligne secondaire du poumon"),
    ("C78.7", "Tumeur maligne secondaire du foie et des voies biliaires intrahépatiques"),
    ("C79.3", "Tumeur maligne secondaire du cerveau et des méninges cérébrales"),
    ("C79.5", "Tumeur maligne secondaire des os et de la moelle osseuse"),
    ("C80", "Tumeur maligne de siège non précisé"),
]

# ICD-O-3 morphology codes (code, label), code system ICDO3.
MORPHOLOGY: list[tuple[str, str]] = [
    ("8500/3", "Adénocarcinome canalaire infiltrant, SAI (C50.-)"),
    ("8520/3", "Carcinome lobulaire, SAI (C50.-)"),
    ("8522/3", "Carcinome canalaire et lobulaire infiltrant (C50.-)"),
    ("8500/2", "Carcinome intracanalaire non infiltrant, SAI"),
    ("8520/2", "Carcinome lobulaire in situ, SAI (C50.-)"),
    ("8530/3", "Carcinome inflammatoire (C50.-)"),
    ("8540/3", "Maladie de Paget du sein (C50.-)"),
    ("8140/3", "Adénocarcinome, SAI"),
    ("8140/2", "Adénocarcinome in situ, SAI"),
    ("8480/3", "Adénocarcinome colloïde"),
    ("8481/3", "Adénocarcinome mucipare"),
    ("8490/3", "Adénocarcinome à cellules en bague à chaton"),
    ("8144/3", "Adénocarcinome de type intestinal (C16.-)"),
    ("8145/3", "Carcinome de type diffus (C16.-)"),
    ("8070/3", "Carcinome épidermoïde, SAI"),
    ("8070/2", "Carcinome épidermoïde in situ, SAI"),
    ("8071/3", "Carcinome épidermoïde kératinisant, SAI"),
    ("8041/3", "Carcinome à petites cellules, SAI"),
    ("8046/3", "Carcinome non à petites cellules (C34.-)"),
    ("8012/3", "Carcinome à grandes cellules, SAI"),
    ("8013/3", "Carcinome neuroendocrinien à grandes cellules"),
    ("8246/3", "Carcinome neuroendocrinien, SAI"),
    ("8240/3", "Tumeur carcinoïde , SAI (sauf appendice, M-8240/1)"),
    ("8250/3", "Adénocarcinome bronchioloalvéolaire, SAI (C34.-)"),
    ("8560/3", "Carcinome adénosquameux"),
    ("8160/3", "Cholangiocarcinome (C22.1, C24.0)"),
    ("8170/3", "Carcinome hépatocellulaire, SAI (C22.0)"),
    ("8120/3", "Carcinome à cellules transitionnelles, SAI"),
    ("8130/3", "Carcinome transitionnel papillaire (C67.-)"),
    ("8312/3", "Carcinome à cellules rénales, SAI (C64.9)"),
    ("8380/3", "Adénocarcinome endométrioïde, SAI"),
    ("8441/3", "Cystadénocarcinome séreux, SAI (C56.9)"),
    ("8460/3", "Cystadénocarcinome séreux papillaire (C56.9)"),
    ("8260/3", "Adénocarcinome papillaire, SAI"),
    ("8330/3", "Adénocarcinome vésiculaire, SAI (C73.9)"),
    ("8090/3", "Carcinome basocellulaire, SAI (C44.-)"),
    ("8720/3", "Mélanome malin, SAI (à l’exception du mélanome juvénile M-8770/0)"),
    ("8800/3", "Sarcome, SAI"),
    ("8890/3", "Léiomyosarcome, SAI"),
    ("8936/3", "Sarcome du stroma gastro-intestinal"),
    ("9061/3", "Séminome, SAI (C62.-)"),
    ("9440/3", "Glioblastome, SAI (C71.-)"),
    ("9650/3", "Lymphome de Hodgkin, SAI"),
    ("9680/3", "Lymphome malin diffus à grandes cellules B, SAI"),
    ("9732/3", "Myélome multiple (C42.1)"),
    ("9861/3", "Leucémie aiguë myéloïde, SAI (type FAB ou OMS non précisé)"),
    ("8010/3", "Carcinome, SAI"),
    ("8000/3", "Tumeur maligne, SAI"),
    ("8000/6", "Tumeur métastatique"),
]
