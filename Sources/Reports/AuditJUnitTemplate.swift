/// The JUnit report's Mustache template (``AuditJUnit``), for the values of
/// ``AuditJUnit/DocumentView``. Every `{{value}}` is escaped for XML 1.0 (``XMLContentType``);
/// the template has no unescaped variable (`{{{…}}}` or `{{&…}}`). Indented by two spaces a
/// level; an element without children is written `<name … />`.
enum AuditJUnitTemplate {
    static let document = #"""
{{% CONTENT_TYPE: XML}}
<?xml version="1.0" encoding="UTF-8"?>
<testsuites name="{{name}}" tests="{{tests}}" failures="{{failures}}" errors="{{errors}}" time="{{time}}">
{{#suites}}
  <testsuite name="{{name}}" tests="{{tests}}" failures="{{failures}}" errors="{{errors}}" skipped="{{skipped}}" time="{{time}}"{{#file}} file="{{.}}"{{/file}}{{#empty}} />{{/empty}}{{^empty}}>
{{#properties}}
    <properties>
{{#property}}
      <property name="{{name}}" value="{{value}}" />
{{/property}}
    </properties>
{{/properties}}
{{#cases}}
    <testcase name="{{name}}" classname="{{classname}}" time="{{time}}"{{#empty}} />{{/empty}}{{^empty}}>
{{#outcomes}}
      <{{element}} type="{{type}}" message="{{message}}"{{#body}}>{{.}}</{{element}}>{{/body}}{{^body}} />{{/body}}
{{/outcomes}}
{{#systemOut}}
      <system-out>{{.}}</system-out>
{{/systemOut}}
    </testcase>{{/empty}}
{{/cases}}
  </testsuite>{{/empty}}
{{/suites}}
</testsuites>

"""#
}
