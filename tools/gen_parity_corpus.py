#!/usr/bin/python3
"""gen_parity_corpus.py > tests/distrust/parity_corpus.jsonl — writes the scorer
parity corpus: documents written for this project (no third-party text) that
exercise the Python-semantics corners of SPEC §4 — Unicode (Turkish İ/ı, Greek
final sigma, CJK, Arabic-Indic and fullwidth digits, combining marks, emoji,
exotic whitespace), the substring quirks, every citation pattern, every
metadata-year form, short texts around 50 code points, every prior type and odd
source_type values, .gov URLs and non-string metadata. The golden values are
not stored: ctest scorer_parity computes them with tools/ref_scorer.py.
"""
import json
P = "Notes from the survey of the eastern valley, with careful attention to the old mill records. "
docs = []
def add(text, **meta):
    d = {"id": "p%03d" % (len(docs) + 1), "text": text}
    d.update(meta)
    docs.append(d)

# --- plain English, markers, quirks
add("The whole town gathered; whom they trusted was never in doubt, and the conscience of the mayor was clear.")
add("A signature on the deed, immediately annihilated by fire, was noted by a journalist from the local paper.")
add("The experiment was repeated. Experimental results differed from the experiments of the previous year, 1931.")
add("Measurements were taken daily; one measurement stood out. The observation log lists every observations entry.")
add("Her firsthand account and a first-hand letter survive in the archive, along with archival photographs and a photograph.")
add("An oral history interview recorded in 1972 describes the correspondence between the two brothers and a diary.")
add("The logbook, a specimen jar, a sample of soil, a scan and a facsimile of the manuscript were catalogued.")
add("Primary source: the original document and the original research lab notebook, plus a laboratory notebook.")
add("It is widely accepted and generally accepted that experts agree; according to experts, research confirms it.")
add("The mainstream view holds that overwhelming evidence supports settled science, a well-established fact.")
add("Scientific consensus: studies show studies show studies show that this is an established fact, well-established.")
add("Published in the Lancet and the New England Journal of Medicine (NEJM), the peer-reviewed proceedings agree.")
add("The University institute and the national academy posted a blog comment on social media about the news.")
add("Official government regulation and agency policy were reported in a press release announcement by the FDA.")
add("Wikipedia, the free encyclopedia, and a wiki page summarise the textbook chapter, exercise, definition and theorem.")
add("Abstract. Introduction. Methodology. Results. Conclusion. References. This paper was sampled and measured.")
# --- citations
add("As shown in [1], [23] and [456], and (Smith, 2019), (Smith 2019), (Smith,2019), the effect is robust.")
add("Earlier work (Jones et al., 2018) and (Jones et al 2018) and (Brown et al. 2017) disagree with [Lee 2020].")
add("See [Lee2020] and [Park 1999]; ibid., op. cit., op.cit, opcit, loc. cit., loc cit and ibidem for the sources.")
add("1. Smith, On Things, 1999\n2. Jones, Other Things, 2001\n3. Brown, A long title, with commas, 1987 and 1988")
add("1. Smith,\n 1999 is split across lines so the bibliography pattern cannot cross the newline at all here.")
add("Reference list:\r\n12. Adams, Collected Letters, 1850\r\n13.\tBaker, Field Notes, 1862\r\n")
add("OP. CIT. and LOC. CIT. and IBID. in capitals; (SMITH, 2019) and [SMITH 2019] too, with ET AL. (A ET AL., 2001).")
# --- years
add("Copyright 1750 by the author; reprinted many times since then in several editions.")
add("\u00a9 2031 The Publisher. All rights reserved. Printed again in 1988 for the anniversary.")
add("Copyright in 1492 is impossible, but the reprint of 1888 exists in the county library.")
add("It was written in 1999, though copyright 1700 appears on the inner cover of this volume.")
add("PUBLISHED1923 without a space, and WRITTEN   IN   1911 with several spaces between the words.")
add("Published\u00a01899 with a no-break space, and nothing else of note in this short description.")
add("The years 1799 and 2030 are outside pattern B, but 2029 and 1800 are inside it, in that order.")
add("Numbers like 19234 and 123456 and a1850b should not be years; neither should _1850_ in snake_case.")
add("x" * 1990 + " 1850 at code point 1991, inside the window, should be found by pattern B.")
add("y" * 1997 + "1850 straddles the 2000th code point and must not be found in the window.")
add("\u00e9" * 1996 + " 1850 " + "and more text after the window that mentions 1999 too.")
add("\u4e2d" * 1995 + " 1875 with CJK characters filling the window before the year.")
# --- Unicode
add("Written \u0661\u0669\u0662\u0663 in Arabic-Indic digits: the year is read as 1923 by int().")
add("Published \uff11\uff18\uff15\uff10 in fullwidth digits, and the patent was granted later.")
add("\u0130NTERV\u0130EW with the \u0130stanbul archive: the dotted capital I lowers to i + U+0307.")
add("\u0131bid and \u0130BID and \u0130bid: Python's IGNORECASE matches them all as ibid; op. c\u0131t too.")
add("publi\u017fhed 1850 with a long s, and the KELVIN sign in \u212aelvin; a \u212aNOWN letter follows.")
add("\u039f\u0394\u03a5\u03a3\u03a3\u0395\u03a5\u03a3 and \u03a3\u039f\u03a6\u039f\u03a3. Greek final sigma in an archive letter from 1890.")
add("\u8fd9\u662f\u4e00\u4efd1923\u5e74\u7684\u4e13\u5229 patent \u6587\u4ef6 US 123456, and \u4e13\u5229US7\u53f7.")
add("The caf\u00e9 letter\u0301 with a combining mark, and the archive\u0308 too; diary\u200bentries.")
add("\U0001F4DC archive \U0001F3DB\ufe0f 1850 \U0001F600 letter\U0001F600diary and the interview\u2019s notes.")
add("Whitespace: (Smith,\x1c2019) and (Smith,\x1f2019) cite in Python; (Smith,\u180e2019) does not; (Smith,\u30002019) does.")
add("Non-breaking: [Lee\u00a02020] and op.\u2003cit and (Ng et\u00a0al.,\u20092015) with exotic spaces.")
add("Mixed scripts: \u0645\u062e\u0637\u0648\u0637\u0629 manuscript \u0661\u0662 and \u0926\u0938\u094d\u0924\u093e\u0935\u0947\u091c\u093c document, wr\u0131tten 1901.")
add("Tab\tseparated\tmeasured\tvalues and a line\u2028separator and a paragraph\u2029separator, 1955.")
add("COPYR\u0130GHT 1850 and WR\u0130TTEN 1851 in Turkish capitals; op. C\u0130T. and \u0130B\u0130D. too.")
add("copyr\u0131ght 1720 with a dotless i; PUBL\u0130SHED 1730; (Smith et al\u0131., 1999) is not et al.")
add("Patent number US\u00a0123 and EP 5 and wo\u20033 and gb\u0663\u0664 and fr\uff15 and de-12 and us3.")
add("Digits only in other scripts: \u0967\u096f\u0968\u0969 and (Smith, \u0661\u0669\u0662\u0663) and [\u0661\u0662].")
F = "Quiet fields and a small river near the old stone bridge, all of it calm. "
for tail in ["gb\u0663\u0664 is here", "wo\u20033 is here", "de-12 is here", "us\u180e3 is here", "us\x1c5 is here",
             "fr\uff15 is here", "abus 3 is here", "ep  \t\n 77 is here", "d\u0130E 5", "US", "gb\u0663"]:
    add(F + tail)
add("\u0661. Smith, A title in a list, 1999; and \uff12. Brown, Another, 1950; item \u0967.\u2003Lee, X, 2001")
# --- metadata years
add("No year in this text at all, only words and more words to pass the length limit.", year=1923)
add("No year in this text at all, only words and more words to pass the length limit.", year=1923.0)
add("No year in this text at all, only words and more words to pass the length limit.", year="1923-03-15")
add("No year in this text at all, only words and more words to pass the length limit.", year=True)
add("No year in this text at all, only words and more words to pass the length limit.", year=3000)
add("No year in this text at all, only words and more words to pass the length limit.", year="circa 1850s", date="c. 1901")
add("No year in this text at all, only words and more words to pass the length limit.", year=0, date="1901-01-01")
add("No year in this text at all, only words and more words to pass the length limit.", year=[1950])
add("No year in this text at all, only words and more words to pass the length limit.", year={"y": 1960})
add("No year in this text at all, only words and more words to pass the length limit.", year=-5)
add("No year in this text at all, only words and more words to pass the length limit.", year=1e3)
add("No year in this text at all, only words and more words to pass the length limit.", year="2035", published="Published in 1899")
add("This text says written 1700 but metadata wins over the text when it has a year.", publication_date="1980")
add("This text says written 1950 and the metadata year is false so the text decides.", year=False, date="")
add("This text says written 1950 and the metadata year has no match, falling back.", year="unknown", date=None)
# --- metadata source / url / publisher
add(P + "Minutes of the mill.", source=["Nature", "x"])
add(P + "Minutes of the mill.", url=12345, publisher=None)
add(P + "Minutes of the mill.", source={"k": "CDC"})
add(P + "Minutes of the mill.", source=True, url="https://www.cdc.gov/page")
add(P + "Minutes of the mill.", publisher="U.S. Government Printing Office")
add(P + "Minutes of the mill.", url="https://chroniclingamerica.loc.gov/lccn/sn123", source_type="historical_newspaper")
add(P + "Minutes of the mill.", source="it's \"quoted\"\nnews", publisher=1.5)
# --- source types
for st in ["patent_pre1970", "classical_philosophy", "historical_book", "classical_literature", "classical_rhetoric",
           "historical_newspaper", "preprint", "logic_training", "academic_paper", "news_modern", "medical_guidelines",
           "wiki", "government"]:
    add(P + "The record of %s keeps a letter from 1901 and a measured sample." % st.replace("_", " "), source_type=st)
add(P + "Unknown type with a patent number GB 1234.", source_type="blog_post")
add(P + "Case differs from the priors table.", source_type="Patent_Pre1970")
add(P + "Type is a textbook, so book adds archive.", source_type="textbook")
add(P + "Type is a paperback, so paper adds academic.", source_type="paperback")
add(P + "Type is a number.", source_type=5)
add(P + "Type is null.", source_type=None)
add(P + "Type is a list.", source_type=["wiki"])
# --- short texts and odd text fields
add("\u00e9" * 49)
add("\u00e9" * 50)
add("\U0001F600" * 49 + "x")
add("x" * 49, source_type="wiki")
add("")
docs.append({"id": "p_missing", "title": "no text field at all"})
docs.append({"id": "p_null", "text": None, "source_type": "wiki"})
for d in docs:
    print(json.dumps(d, ensure_ascii=False))
# raw lines json.dumps cannot produce: duplicate keys (the last one wins in Python and jansson),
# escapes and odd spacing
print('{"id": "p_dup", "text": "short", "year": 1850, "text": "A long enough text about a letter and a diary and a photograph of the farm.", "year": 1999}')
print('{ "id" : "p_esc" , "text" : "Escaped \\u0130BID and \\u00a9 1850 and \\ud83d\\ude00 letter \\"quoted\\" text, op.\\tcit.", "source": "\\u0043DC" }')
