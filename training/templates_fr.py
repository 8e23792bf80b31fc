"""French sentences written for this project, with and without person names, for training/names_fr.py.

Slots: {name} a full name, {first} a first name, {last} a surname, {init} an initial and a surname ("J. Dupont")
(all four labelled PERSON); {title} an honorific (not labelled), {city}, {country}, {org}, {street}, {date}, {num},
{drug} a medicine name as the BDPM writes them (not labelled). Genres: court decisions (the ECHR's way: "M. X",
"Me Y, avocat à ...", lists of judges), clinical notes, news, letters and e-mails, forms, administration,
scholarship, chat. Templates without names hold capitalised words that are not names (institutions, places,
months, laws, course titles, medicine names in capitals; diseases named after people are left out on purpose).
"""

WITH = [
    # court
    "L'affaire a pour origine une requête dirigée contre la République française et dont un ressortissant de cet "
    "Etat, M. {name} (« le requérant »), a saisi la Cour le {date}.",
    "Le requérant, M. {name}, est un ressortissant turc né en {num} et résidant à {city}.",
    "La requérante, Mme {name}, est née en {num} et réside à {city}.",
    "Les requérants, {name} et {name}, sont frères.",
    "Le requérant a été représenté par Me {init}, avocat à {city}.",
    "Les requérants étaient représentés par M. {init}, avocat exerçant à {city}.",
    "Le gouvernement français (« le Gouvernement ») était représenté par son agent, Mme {init}, du ministère des "
    "Affaires étrangères.",
    "La chambre était composée de MM. {init}, président, {init}, {init}, Mme {init} et M. {init}, juges, ainsi que "
    "de M. {init}, greffier de section.",
    "{init}, Président,",
    "{init}, Greffier adjoint.",
    "Mme {init}, juge élue de nationalité {country}, se déporta.",
    "Par la suite, M. {init}, suppléant, a remplacé M. {last}, empêché.",
    "Ont comparu devant la Cour, pour le Gouvernement, M. {init}, agent, et Mme {init}, conseil.",
    "Selon la déposition de {name}, les policiers étaient entrés dans l'appartement sans mandat.",
    "Le {date}, le procureur {name} classa l'affaire sans suite.",
    "Le témoin {last} déclara n'avoir pas vu le requérant ce soir-là.",
    "Le frère du requérant, {name}, fut arrêté le {date}.",
    "La Cour rappelle que M. {last} a saisi le tribunal de grande instance de {city}.",
    "Le juge {last} a exprimé une opinion dissidente.",
    "Dans son arrêt, Lord {last} estima que la décision était légale.",
    "Le Dr {name} a examiné le requérant le lendemain de son arrestation.",
    "Comparaît {name}, majeur, demeurant {street}.",
    "M. {last} soutient que sa détention était arbitraire.",
    "pour le requérant\nMM. {init}, Barrister-at-law,\n{init}, Solicitor, conseils,",
    "Le Lord Justice {last} rejeta l'appel.",
    # clinical
    "Patient adressé par le {title} {name} du centre hospitalier de {city}.",
    "Médecin responsable : {name}, service de médecine interne, {org}.",
    "Cas discuté avec le {title} {last}, de garde aux urgences.",
    "Compte rendu signé par {name}, cardiologue, le {date}.",
    "Vient accompagné de sa fille, {first}, qui apporte les examens précédents.",
    "La patiente, {name}, âgée de {num} ans, se plaint de douleurs abdominales depuis trois jours.",
    "Vu par {name} (neurologie), qui demande une IRM.",
    "Infirmière référente : {name}.",
    "Nous adressons {first} en consultation de dermatologie.",
    # news
    "{name}, porte-parole de {org}, a déclaré hier que la mesure entrera en vigueur le {date}.",
    "Comme l'a expliqué {name} à notre journal, les travaux seront terminés au printemps.",
    "La maire de {city}, {name}, a inauguré la nouvelle médiathèque.",
    "L'entraîneur, {name}, a confirmé le forfait de {last} pour le prochain match.",
    "« Nous n'abandonnerons pas », a assuré {name} à l'issue de la réunion.",
    "L'écrivain {name} présente son nouveau roman à {city}.",
    "Entretien avec {name}, chercheuse au {org}.",
    "{last} a marqué le deuxième but à la {num}e minute.",
    # letters, e-mails, chat
    "Cher {first},",
    "Chère Madame {last},",
    "Bonjour {first}, peux-tu m'envoyer le rapport avant vendredi ?",
    "Bien cordialement,\n{name}",
    "Veuillez agréer, Madame, Monsieur, l'expression de mes salutations distinguées.\n{name}\nService des ressources humaines",
    "Merci {first} ! On se voit demain au bureau.",
    "J'ai parlé avec {first}, elle arrivera en retard.",
    "Je vous transmets les documents demandés par {name}.",
    "De : {name}\nÀ : {name}\nObjet : réunion du {date}",
    "hier j'ai croisé {first} au marché, il te passe le bonjour",
    # forms, administration
    "Nom : {last}\nPrénom : {first}",
    "Titulaire : {name}\nAdresse : {street}\nVille : {city}",
    "Demandeur : {name}. Date de naissance : {date}.",
    "M. {name}, domicilié {street} à {city}, sollicite son inscription sur les listes électorales.",
    "Mme {name} agit au nom et pour le compte de {org}.",
    "Fait à {city}, le {date}. Signé : {name}, secrétaire de mairie.",
    "{name}\n{street}\n{num} {city}",
    "Arrêté portant nomination de {name} en qualité de directrice de {org}.",
    # scholarship
    "Comme le souligne {last} ({num}), l'échantillon n'est pas représentatif.",
    "Voir {last}, {first}, Histoire de {city}, {org}, {num}.",
    "Nous remercions {name} pour ses remarques sur une version antérieure de ce travail.",
    "Thèse dirigée par {name} et {name}.",
    "{name} et {name} proposent un modèle différent.",
    # two names, odd places
    "{first} et {first} habitent à {city} depuis des années.",
    "L'entreprise de {name} a été rachetée par {org}.",
    "Demain on mange chez {first}.",
    "L'acte fut signé par {name} en présence de {name}.",
]

WITHOUT = [
    # court
    "La Cour européenne des droits de l'homme, siégeant en une chambre composée de sept juges, rend l'arrêt que voici.",
    "L'affaire a pour origine une requête (no {num}/{num}) dirigée contre la République française.",
    "Le Gouvernement soutient que les voies de recours internes n'ont pas été épuisées.",
    "Par ces motifs, la Cour, à l'unanimité, déclare la requête recevable.",
    "Fait en français, puis communiqué par écrit le {date}.",
    "Il y a eu violation de l'article {num} de la Convention.",
    "Le Conseil d'Etat rejeta le pourvoi le {date}.",
    "La cour d'appel de {city} confirma le jugement du tribunal correctionnel.",
    "EN FAIT\nI. LES CIRCONSTANCES DE L'ESPÈCE",
    "II. SUR LA VIOLATION ALLÉGUÉE DE L'ARTICLE 6 § 1 DE LA CONVENTION",
    "Le requérant est né en {num} et réside à {city}.",
    "Le requérant allègue que la durée de la procédure a méconnu le principe du « délai raisonnable ».",
    "Dans son arrêt, le Lord Chief Justice rejeta l'appel ; le Lord Advocate ne fit pas d'observations.",
    "La Chambre des Lords, la High Court et la Court of Appeal se prononcèrent sur la question.",
    "Le requérant était représenté par un cabinet de solicitors de {city}, puis par un Barrister-at-law.",
    "La société {org} S.A. et sa filiale danoise A/S furent poursuivies pour escroquerie.",
    # clinical
    "Patient de {num} ans sans antécédent notable, admis aux urgences pour fièvre.",
    "Échographie abdominale et bilan sanguin complet demandés.",
    "Diagnostic : pneumopathie communautaire.",
    "Traitement de sortie : Paracétamol 1 g toutes les 8 heures, suivi par le médecin traitant.",
    "Service d'urologie, {org}, {city}.",
    "Date d'entrée : {date}. Date de sortie : {date}.",
    "Maladie de Crohn en rémission, sans traitement actuel.",
    # medicine names, as the BDPM writes them
    "{drug}",
    "{drug}",
    "{drug}",
    "Posologie : 1 comprimé matin et soir. Ne pas dépasser 3 g par jour.",
    # administration, forms, law
    "Mairie de {city}. Service de l'urbanisme.",
    "Journal officiel de la République française, no {num}.",
    "Loi no {num}-{num} du {date} relative à la protection des données personnelles.",
    "Formulaire de demande d'aide au logement (Cerfa no {num})",
    "Nom :\nPrénom :\nDate de naissance :",
    "Adresse : {street}, {city}.",
    "Pièces justificatives à joindre au dossier",
    "Le Conseil des ministres a adopté ce matin le projet de loi de finances.",
    "Région Auvergne-Rhône-Alpes, Direction de la Santé.",
    # course titles, headings
    "Introduction à l'Économie Politique",
    "Histoire Contemporaine de l'Afrique de l'Ouest",
    "Chapitre {num}. Méthodes et Résultats",
    "Licence de Droit, Semestre 2 : Droit Constitutionnel et Institutions Politiques",
    "Biologie Cellulaire et Moléculaire",
    "Université de {city}, Faculté de Médecine.",
    # news, everyday
    "De fortes pluies ont entraîné la fermeture de plusieurs routes dans le département.",
    "Le Paris Saint-Germain et l'Olympique de Marseille ont fait match nul au Parc des Princes.",
    "La Bourse de Paris a clôturé la séance en hausse de {num} %.",
    "Festival d'Avignon : le programme de la Sélection Officielle.",
    "Les Droits de l'Homme sont universels et indivisibles.",
    "Madame, Monsieur,",
    "Je vous remercie de votre attention.",
    "Nous restons à votre disposition pour tout renseignement complémentaire.",
    "On se retrouve samedi place de la République ?",
    "ok, on se voit tout à l'heure à la gare",
    "Prix : {num} euros. Livraison gratuite en France métropolitaine.",
    "Avis : le Service sera fermé le Lundi de Pâques.",
    # places where names stand
    "Le {date}, il fut extradé vers {country}.",
    "Il se rendit ensuite en {country} et y demanda l'asile.",
    "Les paiements furent effectués à une société de {city}.",
    "Fabriqué par {org} ({city}, {country}).",
    "Il vit chez ses parents à {city} ; il est allé en {country} l'été dernier.",
]

SUBJECT = [
    "se plaint d'une douleur thoracique depuis ce matin.",
    "allègue devant la Cour que sa détention était arbitraire.",
    "a été nommé directeur général de l'entreprise.",
    "est né à {city} en {num}.",
    "a signé le contrat le {date}.",
    "saisit le tribunal administratif de {city}.",
]
"""Sentences that a name opens: "{name} se plaint ..."."""

OPENERS = ["Chacun", "Chacune", "Toute personne", "Tout patient", "Nul", "Personne", "Tous", "Aucun témoin", "Quiconque",
           "Celui-ci", "Celle-ci", "Ce dernier", "L'intéressé", "Le requérant", "La patiente", "Le Gouvernement",
           "Enfin, il", "Toutefois, elle", "Ensuite, le tribunal", "Cependant, l'agent", "Par ailleurs, la Cour",
           "Néanmoins, le juge", "Dès lors, l'administration", "Ainsi, chaque citoyen", "Votre enfant", "Notre équipe",
           "Madame la Présidente", "Le Président", "Le Défenseur des droits", "La Commission", "Le Conseil", "Vous"]
"""Capitalised sentence openers that are no names, before the SUBJECT and TAILS sentences: "Chacun a droit ..."."""
TAILS = [
    "a droit au respect de sa vie privée et familiale.",
    "peut consulter le dossier en mairie aux heures d'ouverture.",
    "doit présenter une pièce d'identité à l'accueil.",
    "ne peut être privé arbitrairement de ses biens.",
    "a été entendu par les enquêteurs le lendemain.",
    "estime que la procédure a duré trop longtemps.",
    "prend rendez-vous auprès du secrétariat.",
]

TITLES = ["Dr", "docteur", "professeur", "Pr", "Mme", "M.", "Monsieur", "Madame", "Maître"]
ORGS = ["Centre hospitalier universitaire de {city}", "Hôpital de {city}", "Université de {city}",
        "Institut Pasteur", "Centre national de la recherche scientifique", "Barreau de {city}",
        "Banque de France", "Croix-Rouge française", "Conseil départemental", "Caisse primaire d'assurance maladie"]
DRUGS = ["PARACETAMOL", "IBUPROFENE", "AMOXICILLINE", "METFORMINE", "OMEPRAZOLE", "ATORVASTATINE", "AMLODIPINE",
         "RAMIPRIL", "LEVOTHYROXINE", "SERTRALINE", "TRAMADOL", "CETIRIZINE", "FUROSEMIDE", "BISOPROLOL",
         "CLOPIDOGREL", "PANTOPRAZOLE", "LOSARTAN", "ZOLPIDEM", "ACICLOVIR", "DOXYCYCLINE"]
LABS = ["BIOGARAN", "ARROW", "SANDOZ", "TEVA", "MYLAN", "ZENTIVA", "EG", "CRISTERS", "ACCORD", "VIATRIS", "ALMUS",
        "ZYDUS", "SUN", "RANBAXY", "QUALIMED", "PHR LAB", "KRKA", "EVOLUGEN"]
HOMEOPATHY = ["ARNICA MONTANA", "BELLADONNA", "NUX VOMICA", "CALENDULA OFFICINALIS", "CHAMOMILLA", "SEPIA",
              "THUJA OCCIDENTALIS", "PULSATILLA", "RHUS TOXICODENDRON", "SULFUR", "GELSEMIUM SEMPERVIRENS",
              "IGNATIA AMARA", "APIS MELLIFICA", "BRYONIA", "ALLIUM CEPA"]
"""Plant and mineral names as homeopathic medicines are named (degrees of dilution, CH and DH)."""
FORMS = ["comprimé", "comprimé pelliculé", "gélule", "comprimé sécable", "solution buvable", "poudre pour solution "
         "injectable", "gélule gastro-résistante", "suspension buvable", "crème", "collyre en solution",
         "solution pour application cutanée", "suppositoire", "granules", "suspension injectable en seringue "
         "préremplie. Vaccin grippal inactivé", "solution injectable. Vaccin pneumococcique polyosidique conjugué"]
