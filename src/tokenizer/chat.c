/* chat.c — chat templates: recognising the family of tokenizer_config.json's
 * Jinja chat_template (done at load time, tokenizer_load.c) and rendering
 * messages with built-in C renderers that reproduce what the template emits
 * for plain system/user/assistant messages. There is no Jinja engine here;
 * each renderer below was derived by reading its template text (see
 * docs/TOKENIZER.md). llama3 and chatml are compared with a Jinja interpreter
 * running the real templates (tests/tokenizer/chat_parity.sh); qwen3 and
 * mistral with hand-derived renders (tests/tokenizer/test_tokenizer.c).
 * Tools (the system block listing them, assistant tool calls, "tool" results)
 * are rendered by qwen3 only, compared with HF's Jinja environment running the
 * real Qwen3 template (tests/data/check_chat_tools.sh); the other renderers
 * refuse them. reasoning_content fields are not supported. */
#include <stdlib.h>
#include <string.h>

#include "tokenizer/tokenizer_internal.h"

int ya_chat_format_parse(const char *name, YaChatFormat *out) {
    if (strcmp(name, "llama3") == 0) *out = YA_CHAT_LLAMA3;
    else if (strcmp(name, "mistral") == 0) *out = YA_CHAT_MISTRAL;
    else if (strcmp(name, "chatml") == 0) *out = YA_CHAT_CHATML;
    else if (strcmp(name, "qwen3") == 0) *out = YA_CHAT_QWEN3;
    else return -1;
    return 0;
}

const char *ya_chat_format_name(YaChatFormat f) {
    switch (f) {
    case YA_CHAT_LLAMA3: return "llama3";
    case YA_CHAT_MISTRAL: return "mistral";
    case YA_CHAT_CHATML: return "chatml";
    case YA_CHAT_QWEN3: return "qwen3";
    default: return "none";
    }
}

const char *ya_chat_end_of_turn(YaChatFormat f, const YaTokenizer *tok) {
    switch (f) {
    case YA_CHAT_LLAMA3: return "<|eot_id|>";
    case YA_CHAT_CHATML:
    case YA_CHAT_QWEN3: return "<|im_end|>";
    case YA_CHAT_MISTRAL: return tok && tok->eos_token.s ? tok->eos_token.s : "</s>";
    default: return NULL;
    }
}

/* Python str.isspace for one code point (Jinja's |trim is str.strip()). */
static int py_space(uint32_t c) {
    return (c >= 9 && c <= 13) || (c >= 0x1C && c <= 0x20) || c == 0x85 || c == 0xA0 || c == 0x1680 ||
           (c >= 0x2000 && c <= 0x200A) || c == 0x2028 || c == 0x2029 || c == 0x202F || c == 0x205F || c == 0x3000;
}

/* [*a, *b) shrunk by Python-style strip; only_newlines: strip('\n') semantics. */
static void strip(const char *s, size_t *a, size_t *b, int left, int right, int only_newlines) {
    while (left && *a < *b) {
        uint32_t cp;
        size_t l = ya_tok_utf8_decode(s + *a, &cp);
        if (only_newlines ? cp != '\n' : !py_space(cp)) break;
        *a += l;
    }
    while (right && *b > *a) {
        size_t k = *b - 1;
        while (k > *a && ((unsigned char)s[k] & 0xC0) == 0x80) k--;
        uint32_t cp;
        ya_tok_utf8_decode(s + k, &cp);
        if (only_newlines ? cp != '\n' : !py_space(cp)) break;
        *b = k;
    }
}

static int puts_(YaStrBuf *b, const char *s) { return ya_strbuf_put(b, s, strlen(s)); }

static int render_llama3(const YaTokenizer *tok, const YaChatMessage *m, size_t n, int gen, YaStrBuf *o) {
    const char *bos = tok && tok->bos_token.s ? tok->bos_token.s : "<|begin_of_text|>";
    for (size_t i = 0; i < n; i++) {
        size_t a = 0, b = strlen(m[i].content);
        strip(m[i].content, &a, &b, 1, 1, 0);
        if ((i == 0 && puts_(o, bos)) || puts_(o, "<|start_header_id|>") || puts_(o, m[i].role) ||
            puts_(o, "<|end_header_id|>\n\n") || ya_strbuf_put(o, m[i].content + a, b - a) || puts_(o, "<|eot_id|>"))
            return -1;
    }
    if ((gen || (tok && tok->chat_always_generation_prompt)) && puts_(o, "<|start_header_id|>assistant<|end_header_id|>\n\n"))
        return -1;
    return 0;
}

static int render_mistral(const YaTokenizer *tok, const YaChatMessage *m, size_t n, YaStrBuf *o, YaError *err) {
    const char *bos = tok && tok->bos_token.s ? tok->bos_token.s : "<s>";
    const char *eos = tok && tok->eos_token.s ? tok->eos_token.s : "</s>";
    const char *system = NULL;
    if (puts_(o, bos)) return -1;
    for (size_t i = 0; i < n; i++) {
        if (strcmp(m[i].role, "system") == 0) { /* folded into the next user turn (the template has no system role) */
            system = m[i].content;
        } else if (strcmp(m[i].role, "user") == 0) {
            if (puts_(o, "[INST] ") || (system && (puts_(o, system) || puts_(o, "\n\n"))) || puts_(o, m[i].content) ||
                puts_(o, " [/INST]"))
                return -1;
            system = NULL;
        } else if (strcmp(m[i].role, "assistant") == 0) {
            if (puts_(o, m[i].content) || puts_(o, eos)) return -1;
        } else {
            return ya_fail(err, YA_ERR, "messages[%zu]: role \"%s\" is not supported by the mistral template", i, m[i].role), 1;
        }
    }
    return 0;
}

static int render_chatml(const YaChatMessage *m, size_t n, int gen, YaStrBuf *o) {
    for (size_t i = 0; i < n; i++)
        if (puts_(o, "<|im_start|>") || puts_(o, m[i].role) || puts_(o, "\n") || puts_(o, m[i].content) ||
            puts_(o, "<|im_end|>\n"))
            return -1;
    return gen ? puts_(o, "<|im_start|>assistant\n") : 0;
}

static const char k_qwen3_tools_head[] =
    "# Tools\n\nYou may call one or more functions to assist with the user query.\n\n"
    "You are provided with function signatures within <tools></tools> XML tags:\n<tools>";
static const char k_qwen3_tools_tail[] =
    "\n</tools>\n\nFor each function call, return a json object with function name and arguments within "
    "<tool_call></tool_call> XML tags:\n<tool_call>\n{\"name\": <function-name>, \"arguments\": "
    "<args-json-object>}\n</tool_call><|im_end|>\n";

/* Qwen3: ChatML, and the assistant turns after the last user query carry a
 * <think> block (empty unless the content holds "...</think>"). With tools, the
 * system turn lists them; assistant tool calls follow the content as
 * <tool_call> blocks; consecutive "tool" results share one user turn. */
static int render_qwen3(const YaChatMessage *m, const YaChatToolCalls *calls, size_t n, const char *const *tools,
                        size_t n_tools, int gen, YaStrBuf *o) {
    int first_system = n > 0 && strcmp(m[0].role, "system") == 0;
    if (n_tools) { /* the first system message goes inside the tools block */
        if (puts_(o, "<|im_start|>system\n") || (first_system && (puts_(o, m[0].content) || puts_(o, "\n\n"))) ||
            puts_(o, k_qwen3_tools_head))
            return -1;
        for (size_t t = 0; t < n_tools; t++)
            if (puts_(o, "\n") || puts_(o, tools[t])) return -1;
        if (puts_(o, k_qwen3_tools_tail)) return -1;
    } else if (first_system &&
               (puts_(o, "<|im_start|>system\n") || puts_(o, m[0].content) || puts_(o, "<|im_end|>\n"))) {
        return -1;
    }
    size_t last_query = n ? n - 1 : 0;
    for (size_t i = n; i-- > 0;)
        if (strcmp(m[i].role, "user") == 0) {
            const char *c = m[i].content;
            size_t len = strlen(c);
            int tool_resp = len >= 31 && strncmp(c, "<tool_response>", 15) == 0 &&
                            strcmp(c + len - 16, "</tool_response>") == 0;
            if (!tool_resp) { last_query = i; break; }
        }
    for (size_t i = 0; i < n; i++) {
        const char *role = m[i].role, *c = m[i].content;
        if (strcmp(role, "user") == 0 || (strcmp(role, "system") == 0 && i > 0)) {
            if (puts_(o, "<|im_start|>") || puts_(o, role) || puts_(o, "\n") || puts_(o, c) || puts_(o, "<|im_end|>\n"))
                return -1;
            continue;
        }
        if (strcmp(role, "tool") == 0) { /* a run of tool results is one user turn */
            if ((i == 0 || strcmp(m[i - 1].role, "tool") != 0) && puts_(o, "<|im_start|>user")) return -1;
            if (puts_(o, "\n<tool_response>\n") || puts_(o, c) || puts_(o, "\n</tool_response>")) return -1;
            if ((i + 1 == n || strcmp(m[i + 1].role, "tool") != 0) && puts_(o, "<|im_end|>\n")) return -1;
            continue;
        }
        if (strcmp(role, "assistant") != 0) { /* other roles (and the first system turn): nothing here */
            continue;
        }
        size_t len = strlen(c), ca = 0, cb = len, ra = 0, rb = 0;
        const char *end_think = NULL;
        for (const char *p = strstr(c, "</think>"); p; p = strstr(p + 1, "</think>")) end_think = p;
        if (end_think) { /* content = after the last </think>, lstrip('\n'); reasoning = between <think> and the first </think> */
            ca = (size_t)(end_think - c) + 8;
            strip(c, &ca, &cb, 1, 0, 1);
            const char *first_end = strstr(c, "</think>");
            rb = (size_t)(first_end - c);
            ra = 0;
            for (const char *p = c; (p = strstr(p, "<think>")) && p < first_end; p++) ra = (size_t)(p - c) + 7;
            strip(c, &ra, &rb, 0, 1, 1);
            strip(c, &ra, &rb, 1, 0, 1);
        }
        int after_query = i > last_query;
        if (after_query && (i == n - 1 || rb > ra)) {
            size_t a2 = ra, b2 = rb;
            strip(c, &a2, &b2, 1, 1, 1);
            size_t c2 = ca;
            strip(c, &c2, &cb, 1, 0, 1);
            if (puts_(o, "<|im_start|>assistant\n<think>\n") || ya_strbuf_put(o, c + a2, b2 - a2) ||
                puts_(o, "\n</think>\n\n") || ya_strbuf_put(o, c + c2, cb - c2))
                return -1;
        } else if (puts_(o, "<|im_start|>assistant\n") || ya_strbuf_put(o, c + ca, cb - ca)) {
            return -1;
        }
        /* the template tests the content *variable* (after the </think> split), not the printed text */
        for (size_t k = 0; calls && k < calls[i].n; k++) {
            const YaChatToolCall *tc = &calls[i].calls[k];
            if ((k > 0 || cb > ca) && puts_(o, "\n")) return -1;
            if (puts_(o, "<tool_call>\n{\"name\": \"") || puts_(o, tc->name) || puts_(o, "\", \"arguments\": ") ||
                puts_(o, tc->arguments) || puts_(o, "}\n</tool_call>"))
                return -1;
        }
        if (puts_(o, "<|im_end|>\n")) return -1;
    }
    return gen ? puts_(o, "<|im_start|>assistant\n") : 0;
}

/* Renderers without tools: the first tool part, named, is an error. */
static int refuse_tools(YaChatFormat fmt, const YaChatMessage *m, const YaChatToolCalls *calls, size_t n, size_t n_tools,
                        YaError *err) {
    const char *name = ya_chat_format_name(fmt);
    if (n_tools)
        return ya_fail(err, YA_ERR, "'tools': the %s chat template does not render tools (only qwen3 does)", name);
    for (size_t i = 0; i < n; i++) {
        if (calls && calls[i].n)
            return ya_fail(err, YA_ERR, "messages[%zu].tool_calls: the %s chat template does not render tool calls (only qwen3 does)",
                           i, name);
        if (strcmp(m[i].role, "tool") == 0)
            return ya_fail(err, YA_ERR, "messages[%zu].role 'tool': the %s chat template does not render tool results (only qwen3 does)",
                           i, name);
    }
    return YA_OK;
}

int ya_chat_render(YaChatFormat fmt, const YaTokenizer *tok, const YaChatMessage *msgs, size_t n,
                   int add_generation_prompt, char **out, YaError *err) {
    return ya_chat_render_tools(fmt, tok, msgs, NULL, n, NULL, 0, add_generation_prompt, out, err);
}

int ya_chat_render_tools(YaChatFormat fmt, const YaTokenizer *tok, const YaChatMessage *msgs,
                         const YaChatToolCalls *calls, size_t n, const char *const *tools, size_t n_tools,
                         int add_generation_prompt, char **out, YaError *err) {
    *out = NULL;
    YaStrBuf o = {0};
    if (ya_strbuf_put(&o, "", 0)) return ya_fail(err, YA_ERR, "out of memory");
    for (size_t i = 0; i < n; i++)
        if (!msgs[i].role || !msgs[i].content) {
            ya_strbuf_free(&o);
            return ya_fail(err, YA_ERR, "messages[%zu]: role and content are required", i);
        }
    if (fmt != YA_CHAT_QWEN3 && fmt != YA_CHAT_NONE && refuse_tools(fmt, msgs, calls, n, n_tools, err)) {
        ya_strbuf_free(&o);
        return YA_ERR;
    }
    int rc;
    switch (fmt) {
    case YA_CHAT_LLAMA3: rc = render_llama3(tok, msgs, n, add_generation_prompt, &o); break;
    case YA_CHAT_MISTRAL: rc = render_mistral(tok, msgs, n, &o, err); break;
    case YA_CHAT_CHATML: rc = render_chatml(msgs, n, add_generation_prompt, &o); break;
    case YA_CHAT_QWEN3: rc = render_qwen3(msgs, calls, n, tools, n_tools, add_generation_prompt, &o); break;
    default:
        ya_strbuf_free(&o);
        return ya_fail(err, YA_ERR_USAGE, "no chat template: the tokenizer has none we recognise; pick one with --chat-format llama3|mistral|chatml|qwen3");
    }
    if (rc) {
        ya_strbuf_free(&o);
        return rc > 0 ? YA_ERR : ya_fail(err, YA_ERR, "out of memory");
    }
    *out = o.data;
    return YA_OK;
}

int ya_chat_encode_user(YaChatFormat fmt, const YaTokenizer *tok, const char *user, YaIds *out, YaError *err) {
    YaChatMessage msg = {"user", user};
    char *text = NULL;
    int rc = ya_chat_render(fmt, tok, &msg, 1, 1, &text, err);
    if (rc == YA_OK) rc = ya_tokenizer_encode(tok, text, strlen(text), 0, out, err);
    free(text);
    return rc;
}
