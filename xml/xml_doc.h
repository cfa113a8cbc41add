// vnet::xml — internal libxml2 helpers shared by the parser, formatter and updater.
//
// Theory of operation
//   parse_xml_document() wraps xmlCtxtReadMemory with XML_PARSE_NONET,
//   XML_PARSE_NOERROR, XML_PARSE_NOWARNING and XML_PARSE_NOBLANKS (libvirt parses
//   with blanks dropped so that <metadata> can be re-indented), and a structured
//   error handler, so libxml2 never prints anything; a document that is not well
//   formed becomes a one-line error with libxml2's line number and message.
//   The node helpers mirror the two ways libvirt reads XML:
//   * xpath_*()  = virXPathString("string(./…)"): an empty value reads as absent;
//                  only un-namespaced children match (as an XPath name test does).
//   * prop()     = virXMLPropString(): an empty attribute is present and "";
//     sub_elements() = virXMLNodeGetSubelementList(): matches by local name.
//   parse_c_unsigned() reproduces virStrToLong_{ui,ul,ull}[p] (strtoul semantics:
//   leading blanks, optional sign, base prefixes, whole string consumed).
//   append_escaped() is virBufferEscapeString(): & < > ' " become entities and
//   most C0 control characters are dropped.
//
// Thread-safety
//   Stateless functions; the libxml2 objects live inside one call. The error
//   handler is installed on the per-call parser context, not globally.
#pragma once

#include <libxml/tree.h>

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace vnet::xml::detail {

struct XmlDocFree {
  void operator()(xmlDoc* d) const { xmlFreeDoc(d); }
};
using XmlDocPtr = std::unique_ptr<xmlDoc, XmlDocFree>;

// Parses `text`; on failure returns nullptr and sets *error to
// "XML error in <what> at line <N>: <libxml2 message>".
XmlDocPtr parse_xml_document(std::string_view text, const char* what, std::string* error);

// Local name of an element node.
std::string_view node_name(const xmlNode* n);
bool is_element(const xmlNode* n, const char* name);  // element with that local name, any namespace

// virXMLPropString: the attribute value ("" when given empty), nullopt if absent.
std::optional<std::string> prop(const xmlNode* n, const char* name);
// XPath string(./@name): nullopt if absent or empty.
std::optional<std::string> xpath_prop(const xmlNode* n, const char* name);
// XPath ./name[1] and ./name: un-namespaced element children.
xmlNode* xpath_child(const xmlNode* n, const char* name);
std::vector<xmlNode*> xpath_children(const xmlNode* n, const char* name);
// virXMLNodeGetSubelement / virXMLNodeGetSubelementList: element children by local name.
xmlNode* sub_element(const xmlNode* n, const char* name);
std::vector<xmlNode*> sub_elements(const xmlNode* n, const char* name);
// String value of an element (all descendant text), as XPath string() gives it.
std::string content(const xmlNode* n);
// XPath string(./name[1]): nullopt if the child is absent or its text is empty.
std::optional<std::string> xpath_child_text(const xmlNode* n, const char* name);

// virStrToLong_*: strtoull-like parse of the whole string. allow_negative follows
// the non-"p" variants ("-1" wraps), max is the type's maximum.
std::optional<uint64_t> parse_c_unsigned(std::string_view s, int base, bool allow_negative,
                                         uint64_t max);
// Shorthands for the helpers libvirt uses.
std::optional<unsigned> str_to_ui(std::string_view s, int base = 10);    // virStrToLong_ui
std::optional<unsigned> str_to_uip(std::string_view s, int base = 10);   // virStrToLong_uip
std::optional<uint64_t> str_to_ul(std::string_view s, int base = 10);    // virStrToLong_ul
std::optional<uint64_t> str_to_ulp(std::string_view s, int base = 10);   // virStrToLong_ulp / ullp

// virBufferEscapeString semantics.
void append_escaped(std::string& out, std::string_view s);
std::string escaped(std::string_view s);
// Minimal escaping (& < ') for the few values libvirt prints without escaping:
// identical output whenever libvirt's own output is well-formed XML.
std::string attr_safe(std::string_view s);

// Serialises `n` the way virXMLFormatMetadata does (xmlNodeDump, format=1,
// indent tree output, starting at nesting `level`).
std::string dump_node(xmlNode* n, int level);

}  // namespace vnet::xml::detail
