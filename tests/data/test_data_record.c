/* test_data_record.c — one JSONL object → validated record (SPEC §2.2, §5.1, §5.4):
 * format detection, field validation with readable reasons, defaults, --score. */
#include <stdlib.h>

#include "test_util.h"
#include "your_ai/data.h"

static json_t *parse(const char *s) {
    json_t *v = NULL;
    YaError err = {0};
    if (ya_json_parse(s, strlen(s), "test", 0, &v, &err)) fprintf(stderr, "parse failed: %s\n", err.message);
    return v;
}

/* Parses `line` under cfg with the data set in format *fmt; returns the status, reason in `reason`. */
static int run(const char *line, const YaDataConfig *cfg, YaDataFormat *fmt, const YaDataScorer *sc, YaDataRecord *rec,
               char *reason) {
    json_t *o = parse(line);
    reason[0] = '\0';
    int rc = ya_data_record_parse(o, cfg, fmt, sc, rec, reason, 256);
    json_decref(o); /* rec borrows from o: tests read only numbers after this */
    return rc;
}

#define EXPECT_BAD(line, fmt_in, needle)                                                                     \
    do {                                                                                                     \
        YaDataFormat f_ = (fmt_in);                                                                          \
        YaDataRecord r_;                                                                                     \
        char why_[256];                                                                                      \
        CHECK_MSG(run(line, &cfg, &f_, NULL, &r_, why_) == YA_ERR, "expected a bad line: %s", line);          \
        CHECK_MSG(strstr(why_, needle) != NULL, "reason '%s' lacks '%s'", why_, needle);                      \
    } while (0)

static void test_tools_fields(const YaDataConfig *base);

static void test_detection_and_fields(void) {
    YaDataConfig cfg;
    ya_data_config_default(&cfg);
    YaDataRecord rec;
    char why[256];
    YaDataFormat fmt = YA_DATA_AUTO;
    CHECK(run("{\"text\":\"hello\",\"auth_weight\":0.1,\"prov_entropy\":5}", &cfg, &fmt, NULL, &rec, why) == YA_OK);
    CHECK(fmt == YA_DATA_TEXT && rec.has_scores && rec.w == 0.1 && rec.h == 5.0 && rec.scored == 0);
    fmt = YA_DATA_AUTO;
    CHECK(run("{\"prompt\":\"\",\"completion\":\"b\",\"text\":\"x\",\"auth_weight\":0,\"prov_entropy\":0}", &cfg, &fmt,
              NULL, &rec, why) == YA_OK);
    CHECK(fmt == YA_DATA_COMPLETIONS); /* prompt+completion wins over text; empty prompt allowed */
    fmt = YA_DATA_AUTO;
    CHECK(run("{\"messages\":[{\"role\":\"user\",\"content\":\"q\"},{\"role\":\"assistant\",\"content\":\"a\"}],"
              "\"auth_weight\":0.99,\"prov_entropy\":0}",
              &cfg, &fmt, NULL, &rec, why) == YA_OK);
    CHECK(fmt == YA_DATA_CHAT && rec.w == 0.99 && rec.h == 0.0); /* inclusive bounds */

    /* a line with no known shape leaves the format undetected */
    EXPECT_BAD("{\"body\":\"x\"}", YA_DATA_AUTO, "no 'text', 'prompt'+'completion', 'messages' or 'conversations' field");
    fmt = YA_DATA_AUTO;
    CHECK(run("{\"body\":\"x\"}", &cfg, &fmt, NULL, &rec, why) == YA_ERR && fmt == YA_DATA_AUTO);
    /* mixing formats */
    EXPECT_BAD("{\"prompt\":\"a\",\"completion\":\"b\",\"auth_weight\":0.1,\"prov_entropy\":1}", YA_DATA_TEXT,
               "line is in completions format, but the data set is in text format");
    EXPECT_BAD("{\"prompt\":\"a\"}", YA_DATA_COMPLETIONS, "no 'prompt'+'completion' field");
    EXPECT_BAD("{\"text\":\"a\",\"auth_weight\":0.1,\"prov_entropy\":1}", YA_DATA_CHAT, "in text format, but the data set is in chat");
    /* field types */
    EXPECT_BAD("{\"text\":\"\",\"auth_weight\":0.1,\"prov_entropy\":1}", YA_DATA_AUTO, "'text' is empty");
    EXPECT_BAD("{\"text\":5}", YA_DATA_AUTO, "'text' must be a string");
    EXPECT_BAD("{\"prompt\":1,\"completion\":\"b\"}", YA_DATA_AUTO, "'prompt' must be a string");
    EXPECT_BAD("{\"prompt\":\"a\",\"completion\":\"\"}", YA_DATA_AUTO, "'completion' is empty");
    /* distrust fields (SPEC §2.2): out of range, wrong type */
    EXPECT_BAD("{\"text\":\"a\",\"auth_weight\":1.5,\"prov_entropy\":1}", YA_DATA_AUTO, "auth_weight 1.5 is outside [0, 0.99]");
    EXPECT_BAD("{\"text\":\"a\",\"auth_weight\":0.995,\"prov_entropy\":1}", YA_DATA_AUTO, "auth_weight 0.995 is outside");
    EXPECT_BAD("{\"text\":\"a\",\"auth_weight\":-0.1,\"prov_entropy\":1}", YA_DATA_AUTO, "auth_weight -0.1 is outside");
    EXPECT_BAD("{\"text\":\"a\",\"auth_weight\":0.5,\"prov_entropy\":-1}", YA_DATA_AUTO, "prov_entropy -1.0 must be a finite number >= 0");
    EXPECT_BAD("{\"text\":\"a\",\"auth_weight\":\"0.5\",\"prov_entropy\":1}", YA_DATA_AUTO, "'auth_weight' must be a number");
    EXPECT_BAD("{\"text\":\"a\",\"auth_weight\":0.5,\"prov_entropy\":true}", YA_DATA_AUTO, "'prov_entropy' must be a number");
    /* missing fields in a distrust run */
    EXPECT_BAD("{\"text\":\"a\"}", YA_DATA_AUTO, "missing 'auth_weight'");
    EXPECT_BAD("{\"text\":\"a\",\"auth_weight\":0.5}", YA_DATA_AUTO, "missing 'prov_entropy'");
    EXPECT_BAD("{\"text\":\"a\",\"auth_weight\":null,\"prov_entropy\":2}", YA_DATA_AUTO, "missing 'auth_weight'");
    /* chat structure */
    EXPECT_BAD("{\"messages\":{}}", YA_DATA_AUTO, "'messages' must be an array");
    EXPECT_BAD("{\"messages\":[]}", YA_DATA_AUTO, "'messages' is empty");
    EXPECT_BAD("{\"messages\":[1]}", YA_DATA_AUTO, "messages[0] must be an object");
    EXPECT_BAD("{\"messages\":[{\"role\":\"bot\",\"content\":\"x\"}]}", YA_DATA_AUTO,
               "messages[0].role 'bot' is not system, user, assistant or tool");
    EXPECT_BAD("{\"messages\":[{\"role\":\"function\",\"content\":\"x\"}]}", YA_DATA_AUTO,
               "messages[0].role 'function' is not read: give tool results the role 'tool'");
    EXPECT_BAD("{\"messages\":[{\"role\":\"user\",\"content\":null}]}", YA_DATA_AUTO, "messages[0].content must be a string");
    EXPECT_BAD("{\"messages\":[{\"role\":\"user\",\"content\":\"q\"}],\"auth_weight\":0.1,\"prov_entropy\":1}", YA_DATA_AUTO,
               "no assistant message to train on");
    test_tools_fields(&cfg);
    /* an empty tools list, or null tool_calls, is no tool use at all */
    YaDataFormat f2 = YA_DATA_AUTO;
    CHECK(run("{\"messages\":[{\"role\":\"user\",\"content\":\"q\"},{\"role\":\"assistant\",\"content\":\"a\","
              "\"tool_calls\":null}],\"tools\":[],\"auth_weight\":0.1,\"prov_entropy\":1}",
              &cfg, &f2, NULL, &rec, why) == YA_OK);
}

#define TOOL_USER "{\"role\":\"user\",\"content\":\"q\"}"
#define TOOL_ANSWER "{\"role\":\"assistant\",\"content\":\"a\"}"

/* tools, tool_calls and role "tool" on messages lines: what is read, and every reason a line is refused */
static void test_tools_fields(const YaDataConfig *base) {
    YaDataConfig cfg = *base;
    cfg.need_scores = 0;
    YaDataRecord rec;
    char why[256];
    YaDataFormat fmt = YA_DATA_AUTO;
    const char *ok =
        "{\"tools\":[{\"type\":\"function\",\"function\":{\"name\":\"f\"}}],\"messages\":[" TOOL_USER ","
        "{\"role\":\"assistant\",\"content\":\"\",\"tool_calls\":[{\"type\":\"function\",\"function\":{\"name\":\"f\","
        "\"arguments\":{\"x\":1}}},{\"name\":\"g\",\"arguments\":\"{}\"}]},{\"role\":\"tool\",\"content\":\"r\"}," TOOL_ANSWER "]}";
    json_t *o = parse(ok);
    CHECK_MSG(ya_data_record_parse(o, &cfg, &fmt, NULL, &rec, why, sizeof why) == YA_OK, "tools line: %s", why);
    CHECK(rec.has_tools && rec.tools && json_array_size(rec.tools) == 1);
    CHECK(strcmp(ya_data_kind_name(fmt, rec.chat_source, rec.has_tools), "chat:messages+tools") == 0);
    YaDataChat chat;
    YaError err = {0};
    CHECK(ya_data_chat_build(&rec, &chat, &err) == YA_OK);
    CHECK(chat.n == 4 && chat.n_tools == 1 && chat.n_calls == 2);
    CHECK(strcmp(chat.tools[0], "{\"type\": \"function\", \"function\": {\"name\": \"f\"}}") == 0); /* tojson spacing */
    CHECK(chat.turn_calls[1].n == 2 && chat.turn_calls[0].n == 0 && chat.turn_calls[3].n == 0);
    CHECK(strcmp(chat.turn_calls[1].calls[0].name, "f") == 0 && strcmp(chat.turn_calls[1].calls[0].arguments, "{\"x\": 1}") == 0);
    CHECK(strcmp(chat.turn_calls[1].calls[1].name, "g") == 0 && strcmp(chat.turn_calls[1].calls[1].arguments, "{}") == 0);
    CHECK(strcmp(chat.msgs[2].role, "tool") == 0 && strcmp(chat.msgs[2].content, "r") == 0);
    ya_data_chat_free(&chat);
    json_decref(o);
    /* a tool result alone also makes the line a tool conversation */
    fmt = YA_DATA_AUTO;
    CHECK(run("{\"messages\":[" TOOL_USER ",{\"role\":\"tool\",\"content\":\"r\"}," TOOL_ANSWER "]}", &cfg, &fmt, NULL, &rec,
              why) == YA_OK && rec.has_tools && !rec.tools);

    EXPECT_BAD("{\"tools\":{\"name\":\"f\"},\"messages\":[" TOOL_USER "," TOOL_ANSWER "]}", YA_DATA_AUTO,
               "'tools' must be an array of tool schemas");
    EXPECT_BAD("{\"tools\":[\"f\"],\"messages\":[" TOOL_USER "," TOOL_ANSWER "]}", YA_DATA_AUTO, "tools[0] must be an object");
    EXPECT_BAD("{\"messages\":[" TOOL_USER ",{\"role\":\"assistant\",\"content\":null,\"tool_calls\":[{\"name\":\"f\","
               "\"arguments\":{}}]}]}",
               YA_DATA_AUTO, "messages[1].content must be a string (\"\" for a turn that only calls tools)");
    EXPECT_BAD("{\"messages\":[" TOOL_USER ",{\"role\":\"assistant\",\"content\":\"\",\"tool_calls\":{}}]}", YA_DATA_AUTO,
               "messages[1].tool_calls must be an array");
    EXPECT_BAD("{\"messages\":[{\"role\":\"user\",\"content\":\"q\",\"tool_calls\":[{}]}," TOOL_ANSWER "]}", YA_DATA_AUTO,
               "messages[0].tool_calls: only an assistant turn calls tools");
    EXPECT_BAD("{\"messages\":[" TOOL_USER ",{\"role\":\"assistant\",\"content\":\"\",\"tool_calls\":[{\"function\":"
               "{\"arguments\":{}}}]}]}",
               YA_DATA_AUTO, "messages[1].tool_calls[0].function.name must be a non-empty string");
    EXPECT_BAD("{\"messages\":[" TOOL_USER ",{\"role\":\"assistant\",\"content\":\"\",\"tool_calls\":[{\"name\":\"f\"}]}]}",
               YA_DATA_AUTO, "messages[1].tool_calls[0].arguments is missing");
    EXPECT_BAD("{\"messages\":[" TOOL_USER ",{\"role\":\"assistant\",\"content\":\"\",\"tool_calls\":[3]}]}", YA_DATA_AUTO,
               "messages[1].tool_calls[0] must be an object");
    EXPECT_BAD("{\"messages\":[" TOOL_USER ",{\"role\":\"tool\",\"content\":5}," TOOL_ANSWER "]}", YA_DATA_AUTO,
               "messages[1].content must be a string");
}

/* ShareGPT "conversations": detection, the from → role mapping, the top-level
 * "system", and every reason a line is refused. */
static void test_sharegpt(void) {
    YaDataConfig cfg;
    ya_data_config_default(&cfg);
    cfg.need_scores = 0;
    YaDataFormat fmt = YA_DATA_AUTO;
    json_t *o = parse("{\"system\":\"Be brief.\",\"conversations\":[{\"from\":\"human\",\"value\":\"q1\"},"
                      "{\"from\":\"gpt\",\"value\":\"a1\"},{\"from\":\"user\",\"value\":\"q2\"},"
                      "{\"from\":\"assistant\",\"value\":\"a2\"}],\"weight\":2}");
    YaDataRecord rec;
    char why[256] = "";
    CHECK_MSG(ya_data_record_parse(o, &cfg, &fmt, NULL, &rec, why, sizeof why) == YA_OK, "sharegpt: %s", why);
    CHECK(fmt == YA_DATA_CHAT && rec.chat_source == YA_CHAT_SOURCE_SHAREGPT);
    CHECK(strcmp(ya_data_kind_name(fmt, rec.chat_source, rec.has_tools), "chat:sharegpt") == 0);
    CHECK(rec.weight == 2.0 && rec.has_weight);
    YaChatMessage m[8];
    CHECK(ya_data_record_messages(&rec, NULL) == 5);
    CHECK(ya_data_record_messages(&rec, m) == 5);
    const char *want[5][2] = {{"system", "Be brief."}, {"user", "q1"}, {"assistant", "a1"}, {"user", "q2"}, {"assistant", "a2"}};
    for (int i = 0; i < 5; i++)
        CHECK_MSG(strcmp(m[i].role, want[i][0]) == 0 && strcmp(m[i].content, want[i][1]) == 0, "turn %d: %s/%s", i,
                  m[i].role, m[i].content);
    json_decref(o);
    /* a system turn inside conversations maps to system; messages and conversations mix in one chat data set */
    o = parse("{\"conversations\":[{\"from\":\"system\",\"value\":\"s\"},{\"from\":\"human\",\"value\":\"q\"},"
              "{\"from\":\"gpt\",\"value\":\"a\"}]}");
    CHECK(ya_data_record_parse(o, &cfg, &fmt, NULL, &rec, why, sizeof why) == YA_OK);
    CHECK(ya_data_record_messages(&rec, m) == 3 && strcmp(m[0].role, "system") == 0 && rec.weight == 1.0 && !rec.has_weight);
    json_decref(o);
    o = parse("{\"messages\":[{\"role\":\"user\",\"content\":\"q\"},{\"role\":\"assistant\",\"content\":\"a\"}]}");
    CHECK(ya_data_record_parse(o, &cfg, &fmt, NULL, &rec, why, sizeof why) == YA_OK);
    CHECK(rec.chat_source == YA_CHAT_SOURCE_MESSAGES && strcmp(ya_data_kind_name(fmt, rec.chat_source, rec.has_tools), "chat:messages") == 0);
    json_decref(o);
    CHECK(strcmp(ya_sharegpt_role("gpt"), "assistant") == 0 && strcmp(ya_sharegpt_role("human"), "user") == 0);
    CHECK(strcmp(ya_sharegpt_role("function_call"), "assistant") == 0 && strcmp(ya_sharegpt_role("observation"), "tool") == 0);
    CHECK(ya_sharegpt_role("bot") == NULL && ya_sharegpt_role("GPT") == NULL);

    /* LLaMA-Factory tool turns: "tools" as JSON text, function_call (the call as JSON text), observation */
    o = parse("{\"tools\":\"[{\\\"name\\\":\\\"f\\\",\\\"parameters\\\":{}}]\",\"conversations\":["
              "{\"from\":\"human\",\"value\":\"q\"},"
              "{\"from\":\"function_call\",\"value\":\"{\\\"name\\\":\\\"f\\\",\\\"arguments\\\":{\\\"x\\\":1.5}}\"},"
              "{\"from\":\"observation\",\"value\":\"r\"},{\"from\":\"gpt\",\"value\":\"a\"}]}");
    CHECK_MSG(ya_data_record_parse(o, &cfg, &fmt, NULL, &rec, why, sizeof why) == YA_OK, "sharegpt tools: %s", why);
    CHECK(rec.has_tools && rec.tools_text && strcmp(ya_data_kind_name(fmt, rec.chat_source, rec.has_tools), "chat:sharegpt+tools") == 0);
    YaDataChat chat;
    YaError err = {0};
    CHECK(ya_data_chat_build(&rec, &chat, &err) == YA_OK);
    CHECK(chat.n == 4 && chat.n_tools == 1 && strcmp(chat.tools[0], "{\"name\": \"f\", \"parameters\": {}}") == 0);
    CHECK(strcmp(chat.msgs[1].role, "assistant") == 0 && strcmp(chat.msgs[1].content, "") == 0 && chat.turn_calls[1].n == 1);
    CHECK(strcmp(chat.turn_calls[1].calls[0].name, "f") == 0 && strcmp(chat.turn_calls[1].calls[0].arguments, "{\"x\": 1.5}") == 0);
    CHECK(strcmp(chat.msgs[2].role, "tool") == 0 && strcmp(chat.msgs[2].content, "r") == 0);
    ya_data_chat_free(&chat);
    json_decref(o);

    EXPECT_BAD("{\"conversations\":{}}", YA_DATA_AUTO, "'conversations' must be an array");
    EXPECT_BAD("{\"conversations\":[]}", YA_DATA_AUTO, "'conversations' is empty");
    EXPECT_BAD("{\"conversations\":[\"x\"]}", YA_DATA_AUTO, "conversations[0] must be an object");
    EXPECT_BAD("{\"conversations\":[{\"value\":\"x\"}]}", YA_DATA_AUTO, "conversations[0].from must be a string");
    EXPECT_BAD("{\"conversations\":[{\"from\":\"human\",\"value\":\"q\"},{\"from\":\"bot\",\"value\":\"a\"}]}", YA_DATA_AUTO,
               "conversations[1].from 'bot' is not system, human, user, gpt, assistant, function_call, observation or tool");
    EXPECT_BAD("{\"conversations\":[{\"from\":\"human\",\"value\":\"q\"},{\"from\":\"function_call\",\"value\":\"{}\"}]}",
               YA_DATA_AUTO, "conversations[1].value.name must be a non-empty string");
    EXPECT_BAD("{\"conversations\":[{\"from\":\"human\",\"value\":\"q\"},{\"from\":\"function_call\",\"value\":\"f(x)\"}]}",
               YA_DATA_AUTO, "conversations[1].value");
    EXPECT_BAD("{\"conversations\":[{\"from\":\"human\",\"value\":\"q\"},{\"from\":\"function_call\",\"value\":"
               "\"[{\\\"name\\\":\\\"f\\\"}]\"}]}",
               YA_DATA_AUTO, "conversations[1].value[0].arguments is missing");
    EXPECT_BAD("{\"conversations\":[{\"from\":\"human\",\"value\":3}]}", YA_DATA_AUTO, "conversations[0].value must be a string");
    EXPECT_BAD("{\"conversations\":[{\"from\":\"human\",\"value\":\"q\"}]}", YA_DATA_AUTO, "no gpt/assistant turn to train on");
    EXPECT_BAD("{\"system\":\"s\",\"conversations\":[{\"from\":\"system\",\"value\":\"t\"},{\"from\":\"gpt\",\"value\":\"a\"}]}",
               YA_DATA_AUTO, "conversations[0] is a system turn, but the line also has a 'system' field");
    EXPECT_BAD("{\"system\":1,\"conversations\":[{\"from\":\"gpt\",\"value\":\"a\"}]}", YA_DATA_AUTO, "'system' must be a string");
    EXPECT_BAD("{\"tools\":\"[1]\",\"conversations\":[{\"from\":\"gpt\",\"value\":\"a\"}]}", YA_DATA_AUTO,
               "'tools' must hold a JSON array of tool schemas");
    EXPECT_BAD("{\"tools\":\"[{\",\"conversations\":[{\"from\":\"gpt\",\"value\":\"a\"}]}", YA_DATA_AUTO,
               "a 'tools' string must hold a JSON array of tool schemas");
    EXPECT_BAD("{\"conversations\":[{\"from\":\"gpt\",\"value\":\"a\"}]}", YA_DATA_TEXT,
               "line is in chat format, but the data set is in text format");
    EXPECT_BAD("{\"conversations\":[{\"from\":\"gpt\",\"value\":\"a\",\"weight\":0}]}", YA_DATA_AUTO,
               "conversations[0].weight: per-turn weights are not supported");
}

/* The sample weight: "weight" or "loss_weight", finite and >= 0, 1 when absent. */
static void test_sample_weight(void) {
    YaDataConfig cfg;
    ya_data_config_default(&cfg);
    cfg.need_scores = 0;
    YaDataRecord rec;
    char why[256];
    YaDataFormat fmt = YA_DATA_AUTO;
    CHECK(run("{\"text\":\"a\"}", &cfg, &fmt, NULL, &rec, why) == YA_OK && rec.weight == 1.0 && !rec.has_weight);
    CHECK(run("{\"text\":\"a\",\"weight\":2.5}", &cfg, &fmt, NULL, &rec, why) == YA_OK && rec.weight == 2.5 && rec.has_weight);
    CHECK(run("{\"text\":\"a\",\"loss_weight\":0}", &cfg, &fmt, NULL, &rec, why) == YA_OK && rec.weight == 0.0);
    CHECK(run("{\"text\":\"a\",\"weight\":null}", &cfg, &fmt, NULL, &rec, why) == YA_OK && rec.weight == 1.0);
    fmt = YA_DATA_AUTO;
    CHECK(run("{\"prompt\":\"p\",\"completion\":\"c\",\"weight\":3}", &cfg, &fmt, NULL, &rec, why) == YA_OK && rec.weight == 3.0);
    EXPECT_BAD("{\"text\":\"a\",\"weight\":-0.5}", YA_DATA_AUTO, "weight -0.5 must be a finite number >= 0");
    EXPECT_BAD("{\"text\":\"a\",\"loss_weight\":\"2\"}", YA_DATA_AUTO, "'loss_weight' must be a number");
    EXPECT_BAD("{\"text\":\"a\",\"weight\":1,\"loss_weight\":1}", YA_DATA_AUTO, "both 'weight' and 'loss_weight' given");
    EXPECT_BAD("{\"messages\":[{\"role\":\"user\",\"content\":\"q\"},{\"role\":\"assistant\",\"content\":\"a\",\"weight\":0}]}",
               YA_DATA_AUTO, "messages[1].weight: per-turn weights are not supported");
}

static void test_defaults_and_modes(void) {
    YaDataConfig cfg;
    ya_data_config_default(&cfg);
    YaDataRecord rec;
    char why[256];
    YaDataFormat fmt = YA_DATA_AUTO;
    /* distrust off: w/H optional and absent */
    cfg.need_scores = 0;
    CHECK(run("{\"text\":\"a\"}", &cfg, &fmt, NULL, &rec, why) == YA_OK);
    CHECK(!rec.has_scores && rec.w == 0 && rec.h == 0);
    /* ... but still validated when present: a training set should be clean */
    CHECK(run("{\"text\":\"a\",\"auth_weight\":2}", &cfg, &fmt, NULL, &rec, why) == YA_ERR);
    /* without the mask a chat needs no assistant turn */
    cfg.mask_prompt = 0;
    fmt = YA_DATA_AUTO;
    CHECK(run("{\"messages\":[{\"role\":\"user\",\"content\":\"q\"}]}", &cfg, &fmt, NULL, &rec, why) == YA_OK);
    /* defaults fill exactly the missing field */
    ya_data_config_default(&cfg);
    cfg.has_default_auth = cfg.has_default_entropy = 1;
    cfg.default_auth = 0.5;
    cfg.default_entropy = 3.0;
    fmt = YA_DATA_AUTO;
    CHECK(run("{\"text\":\"a\"}", &cfg, &fmt, NULL, &rec, why) == YA_OK);
    CHECK(rec.has_scores && rec.w == 0.5 && rec.h == 3.0 && rec.scored == 2);
    CHECK(run("{\"text\":\"a\",\"prov_entropy\":7.5}", &cfg, &fmt, NULL, &rec, why) == YA_OK);
    CHECK(rec.w == 0.5 && rec.h == 7.5);
    /* one default is not enough when the other field is missing too */
    cfg.has_default_entropy = 0;
    CHECK(run("{\"text\":\"a\"}", &cfg, &fmt, NULL, &rec, why) == YA_ERR);
    CHECK(strstr(why, "prov_entropy") != NULL);
}

/* A fake scorer: records what it was asked and returns fixed values. */
typedef struct {
    int calls;
    char source_type[64];
    char text[256];
    double w, h;
} FakeScorer;

static int fake_score(void *ctx, const char *text, size_t len, const json_t *metadata, const char *source_type,
                      double *w, double *h, YaError *err) {
    FakeScorer *f = ctx;
    f->calls++;
    snprintf(f->source_type, sizeof f->source_type, "%s", source_type ? source_type : "(dynamic)");
    snprintf(f->text, sizeof f->text, "%.*s", (int)len, text);
    *w = f->w;
    *h = f->h;
    return json_is_object(metadata) ? YA_OK : ya_fail(err, YA_ERR, "no metadata");
}

static void test_score(void) {
    YaDataConfig cfg;
    ya_data_config_default(&cfg);
    cfg.score = 1;
    FakeScorer f = {.w = 0.12345, .h = 1.00005};
    YaDataScorer sc = {fake_score, &f};
    YaDataRecord rec;
    char why[256];
    YaDataFormat fmt = YA_DATA_AUTO;
    /* SPEC §4.8: fewer than 50 code points → the default case, no scoring */
    CHECK(run("{\"text\":\"short\"}", &cfg, &fmt, &sc, &rec, why) == YA_OK);
    CHECK(f.calls == 0 && rec.w == 0.50 && rec.h == 3.0 && rec.scored == 1);
    /* 49 two-byte code points (98 bytes) is still short: code points, not bytes */
    char line[512];
    char text[256] = "";
    for (int i = 0; i < 49; i++) strcat(text, "\xc3\xa9");
    snprintf(line, sizeof line, "{\"text\":\"%s\"}", text);
    CHECK(run(line, &cfg, &fmt, &sc, &rec, why) == YA_OK && f.calls == 0);
    /* 50 code points: dynamic scoring, rounded like Python round(x, 4) */
    strcat(text, "\xc3\xa9");
    snprintf(line, sizeof line, "{\"text\":\"%s\"}", text);
    CHECK(run(line, &cfg, &fmt, &sc, &rec, why) == YA_OK);
    CHECK(f.calls == 1 && strcmp(f.source_type, "(dynamic)") == 0);
    CHECK(rec.w == 0.1235 && rec.h == 1.0001); /* Python: round(0.12345,4)=0.1235, round(1.00005,4)=1.0001 */
    /* with source_type: hybrid; a value present on the line is kept */
    f.w = 0.00015;
    f.h = 0.33335;
    snprintf(line, sizeof line, "{\"text\":\"%s\",\"source_type\":\"patent_pre1970\",\"prov_entropy\":6.5}", text);
    CHECK(run(line, &cfg, &fmt, &sc, &rec, why) == YA_OK);
    CHECK(f.calls == 2 && strcmp(f.source_type, "patent_pre1970") == 0);
    CHECK(rec.w == 0.0001 && rec.h == 6.5); /* Python: round(0.00015,4)=0.0001 */
    /* completions: the scorer reads prompt + "\n" + completion */
    fmt = YA_DATA_AUTO;
    CHECK(run("{\"prompt\":\"Which patent describes the measurement?\",\"completion\":\"US 2,345,678 of 1923, filed by Edison.\"}",
              &cfg, &fmt, &sc, &rec, why) == YA_OK);
    CHECK(f.calls == 3 && strcmp(f.text, "Which patent describes the measurement?\nUS 2,345,678 of 1923, filed by Edison.") == 0);
    CHECK(rec.w == 0.0001 && rec.h == 0.3333); /* Python: round(0.33335,4)=0.3333 */
    /* chat: the contents joined by "\n" */
    fmt = YA_DATA_AUTO;
    CHECK(run("{\"messages\":[{\"role\":\"user\",\"content\":\"Tell me about the lab notebook of 1956.\"},"
              "{\"role\":\"assistant\",\"content\":\"It records direct observations.\"}]}",
              &cfg, &fmt, &sc, &rec, why) == YA_OK);
    CHECK(strcmp(f.text, "Tell me about the lab notebook of 1956.\nIt records direct observations.") == 0);
    /* no scorer given: the line cannot be completed */
    CHECK(run("{\"text\":\"a\"}", &cfg, &fmt, NULL, &rec, why) == YA_ERR);
}

int main(void) {
    test_detection_and_fields();
    test_sharegpt();
    test_sample_weight();
    test_defaults_and_modes();
    test_score();
    TEST_MAIN_END();
}
