"""The spaCy stage on small hand-written texts, with the real en_core_web_sm model."""

import pytest

from pipeline.classify import candidate_sentences
from pipeline.nlp import Relevance, split_sentences
from pipeline.records import Article


def art(title: str, text: str = "") -> Article:
    return Article(f"t-{abs(hash(title + text))}", "test", "", title, "", text, None, "")


@pytest.fixture(scope="module")
def rt(runtime_session):
    return runtime_session


def test_actor_ruler_gives_canonical_names(rt):
    [result] = rt.analyse([art("Araghchi meets Dar in Islamabad", "Tehran and Washington welcomed the talks hosted by Pakistan.")])
    actors = {e.text: e.actor for e in result.entities if e.actor}
    assert actors["Araghchi"] == "Abbas Araghchi"
    assert actors["Islamabad"] == "Pakistan"  # a capital stands for its government
    assert actors["Tehran"] == "Iran"
    assert actors["Washington"] == "United States"
    assert result.relevant and result.actor_sentences


def test_acronyms_match_case_sensitively(rt):
    [result] = rt.analyse([art("Iran update", "Let us hope the US and Iran talk again.")])
    matched = [e.text for e in result.entities if e.actor == "United States"]
    assert matched == ["US"]  # the pronoun 'us' is not the United States


def test_irrelevant_articles_skip_the_parser(rt):
    cricket, iran = art("Cricket board names squad"), art("Iran and Pakistan reopen border market")
    results = rt.analyse([cricket, iran])
    assert [r.relevant for r in results] == [False, True]
    assert results[0].entities == [] and results[0].events == []


def test_relevance_is_word_bounded(rt):
    relevance = Relevance(rt.scenario)
    assert relevance(art("Tehran says talks will go on"))
    assert not relevance(art("Irani cuisine festival opens in Karachi"))


def test_events_reach_the_nlp_result(rt):
    [result] = rt.analyse([art("Border attack", "Jaish al-Adl militants attacked a border post in Sistan-Baluchestan on Monday.")])
    assert any(e.type == "ASSAULT" for e in result.events)


def test_sentences_for_evidence_come_from_spacy_and_keep_abbreviations_and_quotes():
    text = ('Mr. Sharif met the U.S. envoy in Islamabad on Monday. "We will talk again," he said.\n'
            "ISLAMABAD: a dateline without a full stop\n\nThe survey resumed! He called it \u201ca first step.\u201d Dr. Araghchi agreed.")
    assert split_sentences(text) == [
        "Mr. Sharif met the U.S. envoy in Islamabad on Monday.",  # a regex split at every '. X' cuts after 'Mr.' and 'U.S.'
        '"We will talk again," he said.',  # the opening quote starts its own sentence
        "ISLAMABAD: a dateline without a full stop",  # a line break ends a paragraph
        "The survey resumed!",
        "He called it \u201ca first step.\u201d",
        "Dr. Araghchi agreed.",
    ]


def test_evidence_candidates_without_nlp_results_are_the_headline_then_the_body_sentences():
    article = Article("c-1", "test", "", "Talks on the pipeline resume", "",
                      "Mr. Sharif met the U.S. envoy in Islamabad on Monday. Short one. The survey teams returned to the border.",
                      None, "")
    assert candidate_sentences(article, None) == [
        "Talks on the pipeline resume", "Mr. Sharif met the U.S. envoy in Islamabad on Monday.",
        "The survey teams returned to the border."]  # 'Short one.' is under 20 characters: too short to be evidence


def test_an_evidence_sentence_is_never_the_headline_run_into_the_first_line():
    from pipeline.records import NlpResult

    article = Article("c-2", "test", "", "Talks commence", "",
                      "Prime Minister Shehbaz Sharif met the Iranian delegation in Islamabad on Saturday.", None, "")
    glued = "Talks commence Prime Minister Shehbaz Sharif met the Iranian delegation in Islamabad on Saturday."
    result = NlpResult("c-2", True, actor_sentences=[glued])  # how spaCy's parser splits title + "\n\n" + text
    assert candidate_sentences(article, result) == [
        "Prime Minister Shehbaz Sharif met the Iranian delegation in Islamabad on Saturday."]  # the title is under 20


def test_an_evidence_sentence_is_never_a_clause_the_parser_cut_from_a_sentence():
    """en_core_web_sm's parser sometimes starts a sentence at a comma or after a colon; the analyst would read
    ', officials said, ...' as the first evidence. The parse stays as it is (the event coder reads it)."""
    from pipeline.records import NlpResult

    title = "Pakistan and Iran reopen Taftan border crossing as ceasefire holds"
    text = ("Pakistan and Iran reopened the Taftan border crossing on Monday, officials said, as the US-Iran ceasefire "
            "brokered in Islamabad continued to hold.\n"
            "ISLAMABAD: Traders said the first trucks crossed by noon: the market reopened an hour later.")
    article = Article("c-3", "test", "", title, "", text, None, "")
    cut = [title + "\n\nPakistan and Iran reopened the Taftan border crossing on Monday",  # as the parser split it
           ", officials said, as the US-Iran ceasefire brokered in Islamabad continued to hold.",
           "ISLAMABAD: Traders said the first trucks crossed by noon:",
           "the market reopened an hour later."]
    assert candidate_sentences(article, NlpResult("c-3", True, actor_sentences=cut)) == [
        title,
        "Pakistan and Iran reopened the Taftan border crossing on Monday, officials said, as the US-Iran ceasefire "
        "brokered in Islamabad continued to hold.",
        "ISLAMABAD: Traders said the first trucks crossed by noon: the market reopened an hour later."]


def test_a_parse_sentence_cut_before_a_capital_stays_as_the_parser_cut_it():
    from pipeline.records import NlpResult

    article = Article("c-4", "test", "", "Border trade resumes", "",
                      "ISLAMABAD: Traders said the first trucks crossed by noon. The market reopened an hour later.",
                      None, "")
    parsed = ["ISLAMABAD: Traders said the first trucks crossed by noon.", "The market reopened an hour later."]
    assert candidate_sentences(article, NlpResult("c-4", True, actor_sentences=parsed)) == ["Border trade resumes", *parsed]


def test_a_quote_and_its_attribution_are_one_evidence_sentence():
    """The sentencizer ends a sentence at '?\u201d'; the attribution after it opens with a lowercase word."""
    article = Article("c-5", "test", "", "Analysts question the talks", "",
                      "\u201cCan Pakistan host both sides for long?\u201d an analyst in Islamabad asked on Monday.",
                      None, "")
    assert candidate_sentences(article, None) == [
        "Analysts question the talks",
        "\u201cCan Pakistan host both sides for long?\u201d an analyst in Islamabad asked on Monday."]
