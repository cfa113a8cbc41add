// vnet::xml — internal libxml2 helpers (see xml_doc.h).
#include "xml/xml_doc.h"

#include <libxml/globals.h>
#include <libxml/parser.h>
#include <libxml/xmlerror.h>
#include <libxml/xmlsave.h>

#include <cctype>
#include <climits>
#include <cstring>

namespace vnet::xml::detail {

namespace {

struct ParserCtxtFree {
  void operator()(xmlParserCtxt* c) const { xmlFreeParserCtxt(c); }
};

// Collects the first error reported for the parse running on this thread.
struct ErrorSink {
  bool have = false;
  int line = 0;
  std::string message;
};
thread_local ErrorSink* t_sink = nullptr;

void structured_error(void* /*user*/, xmlError* err) {
  if (t_sink == nullptr || err == nullptr || t_sink->have) return;
  if (err->level < XML_ERR_ERROR) return;  // warnings are not failures
  t_sink->have = true;
  t_sink->line = err->line;
  t_sink->message = err->message ? err->message : "unknown error";
  while (!t_sink->message.empty() &&
         (t_sink->message.back() == '\n' || t_sink->message.back() == ' ')) {
    t_sink->message.pop_back();
  }
}

}  // namespace

XmlDocPtr parse_xml_document(std::string_view text, const char* what, std::string* error) {
  std::unique_ptr<xmlParserCtxt, ParserCtxtFree> ctxt(xmlNewParserCtxt());
  if (!ctxt) {
    *error = "failed to allocate an XML parser context";
    return nullptr;
  }
  ctxt->sax->serror = structured_error;
  ErrorSink sink;
  ErrorSink* saved = t_sink;
  t_sink = &sink;
  if (text.size() > static_cast<size_t>(INT_MAX)) {
    t_sink = saved;
    *error = std::string(what) + ": document too large";
    return nullptr;
  }
  XmlDocPtr doc(xmlCtxtReadMemory(ctxt.get(), text.data(), static_cast<int>(text.size()),
                                  "network.xml", nullptr,
                                  XML_PARSE_NONET | XML_PARSE_NOERROR | XML_PARSE_NOWARNING |
                                      XML_PARSE_NOBLANKS));
  t_sink = saved;
  const bool well_formed = ctxt->wellFormed != 0;
  if (!doc || !well_formed) {
    if (!sink.have) {
      const xmlError* last = xmlCtxtGetLastError(ctxt.get());
      if (last && last->message) {
        sink.line = last->line;
        sink.message = last->message;
        while (!sink.message.empty() && sink.message.back() == '\n') sink.message.pop_back();
      } else {
        sink.message = "failed to parse xml document";
      }
    }
    *error = "XML error in " + std::string(what) + " at line " + std::to_string(sink.line) + ": " +
             sink.message;
    return nullptr;
  }
  if (xmlDocGetRootElement(doc.get()) == nullptr) {
    *error = std::string(what) + ": missing root element";
    return nullptr;
  }
  return doc;
}

std::string_view node_name(const xmlNode* n) {
  return n && n->name ? std::string_view(reinterpret_cast<const char*>(n->name)) : std::string_view();
}

bool is_element(const xmlNode* n, const char* name) {
  return n && n->type == XML_ELEMENT_NODE && node_name(n) == name;
}

std::optional<std::string> prop(const xmlNode* n, const char* name) {
  if (!n) return std::nullopt;
  // virXMLPropString uses xmlGetProp, which ignores the attribute's namespace.
  xmlChar* v = xmlGetProp(n, reinterpret_cast<const xmlChar*>(name));
  if (!v) return std::nullopt;
  std::string s(reinterpret_cast<const char*>(v));
  xmlFree(v);
  return s;
}

std::optional<std::string> xpath_prop(const xmlNode* n, const char* name) {
  if (!n) return std::nullopt;
  // An XPath name test on @name matches only the un-namespaced attribute.
  xmlChar* v = xmlGetNoNsProp(n, reinterpret_cast<const xmlChar*>(name));
  if (!v) return std::nullopt;
  std::string s(reinterpret_cast<const char*>(v));
  xmlFree(v);
  if (s.empty()) return std::nullopt;
  return s;
}

xmlNode* xpath_child(const xmlNode* n, const char* name) {
  if (!n) return nullptr;
  for (xmlNode* c = n->children; c; c = c->next) {
    if (c->type == XML_ELEMENT_NODE && c->ns == nullptr && node_name(c) == name) return c;
  }
  return nullptr;
}

std::vector<xmlNode*> xpath_children(const xmlNode* n, const char* name) {
  std::vector<xmlNode*> out;
  if (!n) return out;
  for (xmlNode* c = n->children; c; c = c->next) {
    if (c->type == XML_ELEMENT_NODE && c->ns == nullptr && node_name(c) == name) out.push_back(c);
  }
  return out;
}

xmlNode* sub_element(const xmlNode* n, const char* name) {
  if (!n) return nullptr;
  for (xmlNode* c = n->children; c; c = c->next) {
    if (is_element(c, name)) return c;
  }
  return nullptr;
}

std::vector<xmlNode*> sub_elements(const xmlNode* n, const char* name) {
  std::vector<xmlNode*> out;
  if (!n) return out;
  for (xmlNode* c = n->children; c; c = c->next) {
    if (is_element(c, name)) out.push_back(c);
  }
  return out;
}

std::string content(const xmlNode* n) {
  if (!n) return {};
  xmlChar* v = xmlNodeGetContent(n);
  if (!v) return {};
  std::string s(reinterpret_cast<const char*>(v));
  xmlFree(v);
  return s;
}

std::optional<std::string> xpath_child_text(const xmlNode* n, const char* name) {
  xmlNode* c = xpath_child(n, name);
  if (!c) return std::nullopt;
  std::string s = content(c);
  if (s.empty()) return std::nullopt;
  return s;
}

std::optional<uint64_t> parse_c_unsigned(std::string_view s, int base, bool allow_negative,
                                         uint64_t max) {
  size_t i = 0;
  while (i < s.size() && std::isspace(static_cast<unsigned char>(s[i]))) ++i;
  bool negative = false;
  if (i < s.size() && (s[i] == '+' || s[i] == '-')) {
    negative = s[i] == '-';
    ++i;
  }
  auto digit = [](char c) -> int {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'z') return c - 'a' + 10;
    if (c >= 'A' && c <= 'Z') return c - 'A' + 10;
    return 99;
  };
  const bool hex_prefix = i + 2 < s.size() && s[i] == '0' && (s[i + 1] == 'x' || s[i + 1] == 'X') &&
                          digit(s[i + 2]) < 16;
  if (base == 0) {
    if (hex_prefix) {
      base = 16;
      i += 2;
    } else if (i < s.size() && s[i] == '0') {
      base = 8;
    } else {
      base = 10;
    }
  } else if (base == 16 && hex_prefix) {
    i += 2;
  }
  const size_t first = i;
  uint64_t value = 0;
  bool overflow = false;
  for (; i < s.size() && digit(s[i]) < base; ++i) {
    const auto d = static_cast<uint64_t>(digit(s[i]));
    if (value > (UINT64_MAX - d) / static_cast<uint64_t>(base)) overflow = true;
    value = value * static_cast<uint64_t>(base) + d;
  }
  if (i == first || i != s.size() || overflow) return std::nullopt;
  if (negative) {
    if (!allow_negative) return std::nullopt;
    if (max == UINT_MAX) {
      // virStrToLong_ui: "-N" means UINT_MAX + 1 - N, if N fits.
      if (value > UINT_MAX) return std::nullopt;
      value = (0u - value) & UINT_MAX;
    } else {
      value = 0 - value;
    }
  }
  if (value > max) return std::nullopt;
  return value;
}

std::optional<unsigned> str_to_ui(std::string_view s, int base) {
  auto v = parse_c_unsigned(s, base, true, UINT_MAX);
  if (!v) return std::nullopt;
  return static_cast<unsigned>(*v);
}

std::optional<unsigned> str_to_uip(std::string_view s, int base) {
  auto v = parse_c_unsigned(s, base, false, UINT_MAX);
  if (!v) return std::nullopt;
  return static_cast<unsigned>(*v);
}

std::optional<uint64_t> str_to_ul(std::string_view s, int base) {
  return parse_c_unsigned(s, base, true, UINT64_MAX);
}

std::optional<uint64_t> str_to_ulp(std::string_view s, int base) {
  return parse_c_unsigned(s, base, false, UINT64_MAX);
}

void append_escaped(std::string& out, std::string_view s) {
  for (char ch : s) {
    const auto c = static_cast<unsigned char>(ch);
    switch (ch) {
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '&': out += "&amp;"; break;
      case '"': out += "&quot;"; break;
      case '\'': out += "&apos;"; break;
      default:
        // virBufferEscapeString silently drops 0x01-0x08, 0x0b, 0x0c, 0x0e-0x19.
        if ((c >= 0x01 && c <= 0x08) || c == 0x0b || c == 0x0c || (c >= 0x0e && c <= 0x19)) break;
        out.push_back(ch);
    }
  }
}

std::string escaped(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  append_escaped(out, s);
  return out;
}

std::string attr_safe(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (char ch : s) {
    switch (ch) {
      case '<': out += "&lt;"; break;
      case '&': out += "&amp;"; break;
      case '\'': out += "&apos;"; break;
      default: out.push_back(ch);
    }
  }
  return out;
}

std::string dump_node(xmlNode* n, int level) {
  xmlBuffer* buf = xmlBufferCreate();
  if (!buf) return {};
  const int old_indent = xmlIndentTreeOutput;
  xmlIndentTreeOutput = 1;
  const int rc = xmlNodeDump(buf, n->doc, n, level, 1);
  xmlIndentTreeOutput = old_indent;
  std::string out;
  if (rc >= 0) out.assign(reinterpret_cast<const char*>(xmlBufferContent(buf)));
  xmlBufferFree(buf);
  return out;
}

}  // namespace vnet::xml::detail
