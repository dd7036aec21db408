"""Write data/reference/states.ttl: every sovereign state as a pg:State.

The 193 UN member states plus the two UN observer states (the Holy See and Palestine).

    python scripts/make_states.py > data/reference/states.ttl
    python scripts/make_states.py data/reference/states.ttl

Runs offline; output is deterministic (rdflib's Turtle writer sorts subjects, so states come in ISO3 order).

Where each column of STATES comes from:
  iso3     ISO 3166-1 alpha-3. Alpha-2, numeric and (unless OFFICIAL overrides it) the official name are
           looked up in pycountry, which packages Debian's iso-codes data.
  label    The common short English name, as an English news report would write it.
  qid      Wikidata item id, cross-checked against the wikidata_uri column of Our World in Data's
           country table (owid/owid-grapher, CountriesRegions.ts). Deliberate choices: NLD is the
           sovereign Kingdom of the Netherlands (Q29999, not the constituent country Q55); VAT is the
           Holy See (Q159583, the UN observer and treaty party, not Vatican City Q237).
  gw       Gleditsch–Ward state number: country_converter's country_data.tsv GWcode column, corrected
           against Gleditsch's list (ksgleditsch.com statelist / ksgmdw.txt) for CZE 316 (315 is
           Czechoslovakia), VNM 816 (817 is the Republic of Vietnam) and YEM 678 (680 is South Yemen).
           Microstates (not in the main list) keep country_converter's codes, i.e. their COW numbers except
           KIR 970, NRU 971, TON 972, TUV 973 (as tabulated in the `states` R package, andybega/states).
  cow      Correlates of War state number (COW-country-codes.csv). It equals gw except Germany 255,
           Yemen 679, Serbia 345 (COW continues Yugoslavia), Kiribati 946, Nauru 970, Tonga 955 and
           Tuvalu 947. Neither list has a code for the Holy See or Palestine.
  aliases  Well-known alternative English names (skos:altLabel), besides the official name.
"""

from __future__ import annotations

import sys
from typing import NamedTuple

import pycountry
from rdflib import RDF, RDFS, SKOS, XSD, Graph, Literal, Namespace, URIRef
from rdflib.namespace import DCTERMS

PG = Namespace("https://pactgraph.org/ontology#")
ID = Namespace("https://pactgraph.org/id/")
RETRIEVED = "2026-11-28"


class State(NamedTuple):
    iso3: str
    label: str
    qid: str
    gw: int | None
    cow: int | None
    aliases: tuple[str, ...] = ()


STATES: tuple[State, ...] = (
    State("AFG", "Afghanistan", "Q889", 700, 700),
    State("AGO", "Angola", "Q916", 540, 540),
    State("ALB", "Albania", "Q222", 339, 339),
    State("AND", "Andorra", "Q228", 232, 232),
    State("ARE", "United Arab Emirates", "Q878", 696, 696, ("UAE",)),
    State("ARG", "Argentina", "Q414", 160, 160),
    State("ARM", "Armenia", "Q399", 371, 371),
    State("ATG", "Antigua and Barbuda", "Q781", 58, 58),
    State("AUS", "Australia", "Q408", 900, 900),
    State("AUT", "Austria", "Q40", 305, 305),
    State("AZE", "Azerbaijan", "Q227", 373, 373),
    State("BDI", "Burundi", "Q967", 516, 516),
    State("BEL", "Belgium", "Q31", 211, 211),
    State("BEN", "Benin", "Q962", 434, 434),
    State("BFA", "Burkina Faso", "Q965", 439, 439),
    State("BGD", "Bangladesh", "Q902", 771, 771),
    State("BGR", "Bulgaria", "Q219", 355, 355),
    State("BHR", "Bahrain", "Q398", 692, 692),
    State("BHS", "Bahamas", "Q778", 31, 31, ("The Bahamas",)),
    State("BIH", "Bosnia and Herzegovina", "Q225", 346, 346, ("Bosnia",)),
    State("BLR", "Belarus", "Q184", 370, 370),
    State("BLZ", "Belize", "Q242", 80, 80),
    State("BOL", "Bolivia", "Q750", 145, 145),
    State("BRA", "Brazil", "Q155", 140, 140),
    State("BRB", "Barbados", "Q244", 53, 53),
    State("BRN", "Brunei", "Q921", 835, 835),
    State("BTN", "Bhutan", "Q917", 760, 760),
    State("BWA", "Botswana", "Q963", 571, 571),
    State("CAF", "Central African Republic", "Q929", 482, 482),
    State("CAN", "Canada", "Q16", 20, 20),
    State("CHE", "Switzerland", "Q39", 225, 225),
    State("CHL", "Chile", "Q298", 155, 155),
    State("CHN", "China", "Q148", 710, 710, ("PRC",)),
    State("CIV", "Ivory Coast", "Q1008", 437, 437, ("Côte d'Ivoire", "Cote d'Ivoire")),
    State("CMR", "Cameroon", "Q1009", 471, 471),
    State(
        "COD",
        "Democratic Republic of the Congo",
        "Q974",
        490,
        490,
        ("Democratic Republic of Congo", "DR Congo", "DRC", "Congo-Kinshasa"),
    ),
    State("COG", "Republic of the Congo", "Q971", 484, 484, ("Republic of Congo", "Congo-Brazzaville")),
    State("COL", "Colombia", "Q739", 100, 100),
    State("COM", "Comoros", "Q970", 581, 581),
    State("CPV", "Cape Verde", "Q1011", 402, 402, ("Cabo Verde",)),
    State("CRI", "Costa Rica", "Q800", 94, 94),
    State("CUB", "Cuba", "Q241", 40, 40),
    State("CYP", "Cyprus", "Q229", 352, 352),
    State("CZE", "Czechia", "Q213", 316, 316),
    State("DEU", "Germany", "Q183", 260, 255),
    State("DJI", "Djibouti", "Q977", 522, 522),
    State("DMA", "Dominica", "Q784", 54, 54),
    State("DNK", "Denmark", "Q35", 390, 390),
    State("DOM", "Dominican Republic", "Q786", 42, 42),
    State("DZA", "Algeria", "Q262", 615, 615),
    State("ECU", "Ecuador", "Q736", 130, 130),
    State("EGY", "Egypt", "Q79", 651, 651),
    State("ERI", "Eritrea", "Q986", 531, 531),
    State("ESP", "Spain", "Q29", 230, 230),
    State("EST", "Estonia", "Q191", 366, 366),
    State("ETH", "Ethiopia", "Q115", 530, 530),
    State("FIN", "Finland", "Q33", 375, 375),
    State("FJI", "Fiji", "Q712", 950, 950),
    State("FRA", "France", "Q142", 220, 220),
    State("FSM", "Micronesia", "Q702", 987, 987),
    State("GAB", "Gabon", "Q1000", 481, 481),
    State("GBR", "United Kingdom", "Q145", 200, 200, ("UK", "U.K.", "Britain")),
    State("GEO", "Georgia", "Q230", 372, 372),
    State("GHA", "Ghana", "Q117", 452, 452),
    State("GIN", "Guinea", "Q1006", 438, 438),
    State("GMB", "Gambia", "Q1005", 420, 420, ("The Gambia",)),
    State("GNB", "Guinea-Bissau", "Q1007", 404, 404),
    State("GNQ", "Equatorial Guinea", "Q983", 411, 411),
    State("GRC", "Greece", "Q41", 350, 350),
    State("GRD", "Grenada", "Q769", 55, 55),
    State("GTM", "Guatemala", "Q774", 90, 90),
    State("GUY", "Guyana", "Q734", 110, 110),
    State("HND", "Honduras", "Q783", 91, 91),
    State("HRV", "Croatia", "Q224", 344, 344),
    State("HTI", "Haiti", "Q790", 41, 41),
    State("HUN", "Hungary", "Q28", 310, 310),
    State("IDN", "Indonesia", "Q252", 850, 850),
    State("IND", "India", "Q668", 750, 750),
    State("IRL", "Ireland", "Q27", 205, 205, ("Republic of Ireland",)),
    State("IRN", "Iran", "Q794", 630, 630),
    State("IRQ", "Iraq", "Q796", 645, 645),
    State("ISL", "Iceland", "Q189", 395, 395),
    State("ISR", "Israel", "Q801", 666, 666),
    State("ITA", "Italy", "Q38", 325, 325),
    State("JAM", "Jamaica", "Q766", 51, 51),
    State("JOR", "Jordan", "Q810", 663, 663),
    State("JPN", "Japan", "Q17", 740, 740),
    State("KAZ", "Kazakhstan", "Q232", 705, 705),
    State("KEN", "Kenya", "Q114", 501, 501),
    State("KGZ", "Kyrgyzstan", "Q813", 703, 703),
    State("KHM", "Cambodia", "Q424", 811, 811),
    State("KIR", "Kiribati", "Q710", 970, 946),
    State("KNA", "Saint Kitts and Nevis", "Q763", 60, 60, ("St Kitts and Nevis", "St. Kitts and Nevis")),
    State("KOR", "South Korea", "Q884", 732, 732),
    State("KWT", "Kuwait", "Q817", 690, 690),
    State("LAO", "Laos", "Q819", 812, 812, ("Lao PDR",)),
    State("LBN", "Lebanon", "Q822", 660, 660),
    State("LBR", "Liberia", "Q1014", 450, 450),
    State("LBY", "Libya", "Q1016", 620, 620),
    State("LCA", "Saint Lucia", "Q760", 56, 56, ("St Lucia", "St. Lucia")),
    State("LIE", "Liechtenstein", "Q347", 223, 223),
    State("LKA", "Sri Lanka", "Q854", 780, 780),
    State("LSO", "Lesotho", "Q1013", 570, 570),
    State("LTU", "Lithuania", "Q37", 368, 368),
    State("LUX", "Luxembourg", "Q32", 212, 212),
    State("LVA", "Latvia", "Q211", 367, 367),
    State("MAR", "Morocco", "Q1028", 600, 600),
    State("MCO", "Monaco", "Q235", 221, 221),
    State("MDA", "Moldova", "Q217", 359, 359),
    State("MDG", "Madagascar", "Q1019", 580, 580),
    State("MDV", "Maldives", "Q826", 781, 781),
    State("MEX", "Mexico", "Q96", 70, 70),
    State("MHL", "Marshall Islands", "Q709", 983, 983),
    State("MKD", "North Macedonia", "Q221", 343, 343),
    State("MLI", "Mali", "Q912", 432, 432),
    State("MLT", "Malta", "Q233", 338, 338),
    State("MMR", "Myanmar", "Q836", 775, 775, ("Burma",)),
    State("MNE", "Montenegro", "Q236", 341, 341),
    State("MNG", "Mongolia", "Q711", 712, 712),
    State("MOZ", "Mozambique", "Q1029", 541, 541),
    State("MRT", "Mauritania", "Q1025", 435, 435),
    State("MUS", "Mauritius", "Q1027", 590, 590),
    State("MWI", "Malawi", "Q1020", 553, 553),
    State("MYS", "Malaysia", "Q833", 820, 820),
    State("NAM", "Namibia", "Q1030", 565, 565),
    State("NER", "Niger", "Q1032", 436, 436),
    State("NGA", "Nigeria", "Q1033", 475, 475),
    State("NIC", "Nicaragua", "Q811", 93, 93),
    State("NLD", "Netherlands", "Q29999", 210, 210, ("The Netherlands",)),
    State("NOR", "Norway", "Q20", 385, 385),
    State("NPL", "Nepal", "Q837", 790, 790),
    State("NRU", "Nauru", "Q697", 971, 970),
    State("NZL", "New Zealand", "Q664", 920, 920),
    State("OMN", "Oman", "Q842", 698, 698),
    State("PAK", "Pakistan", "Q843", 770, 770),
    State("PAN", "Panama", "Q804", 95, 95),
    State("PER", "Peru", "Q419", 135, 135),
    State("PHL", "Philippines", "Q928", 840, 840),
    State("PLW", "Palau", "Q695", 986, 986),
    State("PNG", "Papua New Guinea", "Q691", 910, 910),
    State("POL", "Poland", "Q36", 290, 290),
    State("PRK", "North Korea", "Q423", 731, 731, ("DPRK",)),
    State("PRT", "Portugal", "Q45", 235, 235),
    State("PRY", "Paraguay", "Q733", 150, 150),
    State("PSE", "Palestine", "Q219060", None, None),
    State("QAT", "Qatar", "Q846", 694, 694),
    State("ROU", "Romania", "Q218", 360, 360),
    State("RUS", "Russia", "Q159", 365, 365),
    State("RWA", "Rwanda", "Q1037", 517, 517),
    State("SAU", "Saudi Arabia", "Q851", 670, 670),
    State("SDN", "Sudan", "Q1049", 625, 625),
    State("SEN", "Senegal", "Q1041", 433, 433),
    State("SGP", "Singapore", "Q334", 830, 830),
    State("SLB", "Solomon Islands", "Q685", 940, 940),
    State("SLE", "Sierra Leone", "Q1044", 451, 451),
    State("SLV", "El Salvador", "Q792", 92, 92),
    State("SMR", "San Marino", "Q238", 331, 331),
    State("SOM", "Somalia", "Q1045", 520, 520),
    State("SRB", "Serbia", "Q403", 340, 345),
    State("SSD", "South Sudan", "Q958", 626, 626),
    State("STP", "São Tomé and Príncipe", "Q1039", 403, 403, ("Sao Tome and Principe",)),
    State("SUR", "Suriname", "Q730", 115, 115),
    State("SVK", "Slovakia", "Q214", 317, 317),
    State("SVN", "Slovenia", "Q215", 349, 349),
    State("SWE", "Sweden", "Q34", 380, 380),
    State("SWZ", "Eswatini", "Q1050", 572, 572, ("Swaziland",)),
    State("SYC", "Seychelles", "Q1042", 591, 591),
    State("SYR", "Syria", "Q858", 652, 652),
    State("TCD", "Chad", "Q657", 483, 483),
    State("TGO", "Togo", "Q945", 461, 461),
    State("THA", "Thailand", "Q869", 800, 800),
    State("TJK", "Tajikistan", "Q863", 702, 702),
    State("TKM", "Turkmenistan", "Q874", 701, 701),
    State("TLS", "East Timor", "Q574", 860, 860, ("Timor-Leste",)),
    State("TON", "Tonga", "Q678", 972, 955),
    State("TTO", "Trinidad and Tobago", "Q754", 52, 52),
    State("TUN", "Tunisia", "Q948", 616, 616),
    State("TUR", "Turkey", "Q43", 640, 640, ("Türkiye", "Turkiye")),
    State("TUV", "Tuvalu", "Q672", 973, 947),
    State("TZA", "Tanzania", "Q924", 510, 510),
    State("UGA", "Uganda", "Q1036", 500, 500),
    State("UKR", "Ukraine", "Q212", 369, 369),
    State("URY", "Uruguay", "Q77", 165, 165),
    State("USA", "United States", "Q30", 2, 2, ("USA", "US", "U.S.")),
    State("UZB", "Uzbekistan", "Q265", 704, 704),
    State(
        "VAT", "Holy See", "Q159583", None, None, ("Vatican", "Vatican City", "Holy See (Vatican City State)")
    ),
    State(
        "VCT",
        "Saint Vincent and the Grenadines",
        "Q757",
        57,
        57,
        ("St Vincent and the Grenadines", "St. Vincent and the Grenadines"),
    ),
    State("VEN", "Venezuela", "Q717", 101, 101),
    State("VNM", "Vietnam", "Q881", 816, 816, ("Viet Nam", "Socialist Republic of Vietnam")),
    State("VUT", "Vanuatu", "Q686", 935, 935),
    State("WSM", "Samoa", "Q683", 990, 990),
    State("YEM", "Yemen", "Q805", 678, 679),
    State("ZAF", "South Africa", "Q258", 560, 560),
    State("ZMB", "Zambia", "Q953", 551, 551),
    State("ZWE", "Zimbabwe", "Q954", 552, 552),
)

# Official names where pycountry has none, an outdated one or a stray leading "the"; None: same as label.
OFFICIAL: dict[str, str | None] = {
    "AUS": "Commonwealth of Australia",
    "BIH": None,
    "BRN": "Brunei Darussalam",
    "ERI": "State of Eritrea",
    "GUY": "Co-operative Republic of Guyana",
    "KOR": "Republic of Korea",
    "LAO": "Lao People's Democratic Republic",
    "LBY": "State of Libya",
    "MMR": "Republic of the Union of Myanmar",
    "PSE": "State of Palestine",
    "RUS": "Russian Federation",
    "RWA": "Republic of Rwanda",
    "STP": "Democratic Republic of São Tomé and Príncipe",
    "SYR": "Syrian Arab Republic",
    "URY": "Oriental Republic of Uruguay",
    "VAT": None,
}

SOURCES: dict[str, dict[str, str]] = {
    "iso-3166": {
        "label": "ISO 3166-1 country codes",
        "title": "ISO 3166-1: Codes for the representation of names of countries — Part 1: Country code",
        "publisher": "International Organization for Standardization",
        "url": "https://www.iso.org/iso-3166-country-codes.html",
        "license": "https://www.gnu.org/licenses/old-licenses/lgpl-2.1.html",
        "comment": "Codes and official names as packaged by pycountry from Debian's iso-codes (LGPL-2.1).",
    },
    "wikidata": {
        "label": "Wikidata",
        "title": "Wikidata",
        "publisher": "Wikimedia Foundation",
        "url": "https://www.wikidata.org/",
        "license": "https://creativecommons.org/publicdomain/zero/1.0/",
    },
    "gleditsch-ward": {
        "label": "Gleditsch and Ward: list of independent states",
        "title": "Interstate System Membership: A Revised List of the Independent States since 1816",
        "creator": "Kristian Skrede Gleditsch and Michael D. Ward",
        "publisher": "International Interactions (Taylor & Francis)",
        "url": "http://ksgleditsch.com/statelist.html",
        "comment": "International Interactions 25 (1999): 393–413; updated list and microstates list.",
    },
    "correlates-of-war": {
        "label": "Correlates of War: State System Membership",
        "title": "State System Membership List",
        "publisher": "Correlates of War Project",
        "url": "https://correlatesofwar.org/data-sets/state-system-membership/",
    },
}


def en(text: str) -> Literal:
    return Literal(text, lang="en")


def official_name(iso3: str) -> str | None:
    if iso3 in OFFICIAL:
        return OFFICIAL[iso3]
    country = pycountry.countries.get(alpha_3=iso3)
    return getattr(country, "official_name", None)


def build() -> Graph:
    g = Graph()
    for prefix, ns in (
        ("pg", PG),
        ("id", ID),
        ("rdfs", RDFS),
        ("skos", SKOS),
        ("xsd", XSD),
        ("dcterms", DCTERMS),
    ):
        g.bind(prefix, ns)
    for slug, info in SOURCES.items():
        src = ID[f"source/{slug}"]
        g.add((src, RDF.type, PG.Source))
        g.add((src, RDFS.label, en(info["label"])))
        g.add((src, DCTERMS.title, en(info["title"])))
        if "publisher" in info:
            g.add((src, DCTERMS.publisher, en(info["publisher"])))
        if "creator" in info:
            g.add((src, DCTERMS.creator, en(info["creator"])))
        if "license" in info:
            g.add((src, DCTERMS.license, URIRef(info["license"])))
        if "comment" in info:
            g.add((src, RDFS.comment, en(info["comment"])))
        g.add((src, PG.url, Literal(info["url"], datatype=XSD.anyURI)))
        g.add((src, PG.retrieved, Literal(RETRIEVED, datatype=XSD.date)))
    for st in STATES:
        country = pycountry.countries.get(alpha_3=st.iso3)
        if country is None:
            raise SystemExit(f"{st.iso3}: not in pycountry")
        node = ID[f"state/{st.iso3}"]
        g.add((node, RDF.type, PG.State))
        g.add((node, RDFS.label, en(st.label)))
        official = official_name(st.iso3)
        for alias in (official, *st.aliases):
            if alias and alias != st.label:
                g.add((node, SKOS.altLabel, en(alias)))
        g.add((node, PG.isoAlpha2, Literal(country.alpha_2)))
        g.add((node, PG.isoAlpha3, Literal(country.alpha_3)))
        g.add((node, PG.isoNumeric, Literal(country.numeric.zfill(3))))
        g.add((node, PG.wikidataId, Literal(st.qid)))
        g.add((node, PG.source, ID["source/iso-3166"]))
        g.add((node, PG.source, ID["source/wikidata"]))
        if st.gw is not None:
            g.add((node, PG.gwCode, Literal(st.gw)))
            g.add((node, PG.source, ID["source/gleditsch-ward"]))
        if st.cow is not None:
            g.add((node, PG.cowCode, Literal(st.cow)))
            g.add((node, PG.source, ID["source/correlates-of-war"]))
    return g


def main(argv: list[str]) -> None:
    header = (
        "# Generated by scripts/make_states.py; do not edit by hand: change the script and re-run it.\n"
        f"@prefix id: <{ID}> .\n"
    )
    text = header + build().serialize(format="turtle")
    if len(argv) > 1:
        with open(argv[1], "w", encoding="utf-8") as out:
            out.write(text)
    else:
        sys.stdout.write(text)


if __name__ == "__main__":
    main(sys.argv)
