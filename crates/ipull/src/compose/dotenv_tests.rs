//! compose-go's own env-file cases, run against our reader: the variables each file gives, or
//! the error it is.
//!
//! Ported (the data, not the code) from github.com/compose-spec/compose-go at commit
//! e70e961c3a3acebf0800b882f1afb3dbf1fb74a2: `dotenv/godotenv_test.go` with its fixtures
//! (`dotenv/fixtures/*.env`, copied below as they are), `dotenv/godotenv_var_expansion_test.go`
//! and `dotenv/parser_test.go`. Left out: the tests of godotenv's `Load` (which sets the process
//! environment), of custom formats and of memory use.
//!
//! compose reads env files with `GetEnvFromFile` (the environment first, then the lines
//! above), which keeps every key; godotenv's `Read` also drops keys starting with a digit
//! (`456 = ABC` in `plain.env`). We read as compose does, so `456` is kept here; no variable of
//! a template can start with a digit, so it changes no image.

use std::collections::HashMap;

use super::dotenv::{parse, ParseError};

/// `text` read with `env` as the environment.
fn read(text: &str, env: &[(&str, &str)]) -> Result<HashMap<String, String>, ParseError> {
    let mut out = HashMap::new();
    let outer = |k: &str| {
        env.iter()
            .find(|(n, _)| *n == k)
            .map(|(_, v)| v.to_string())
    };
    parse(text, &mut out, &outer).map(|()| out)
}

fn map(pairs: &[(&str, &str)]) -> HashMap<String, String> {
    pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

/// `text` gives exactly `want`.
fn gives(text: &str, env: &[(&str, &str)], want: &[(&str, &str)]) {
    assert_eq!(read(text, env), Ok(map(want)), "{text:?}");
}

/// `text` gives `value` for `key` (parseAndCompare).
fn parses(text: &str, key: &str, value: &str) {
    let got = read(text, &[]).unwrap_or_else(|e| panic!("{text:?}: {e:?}"));
    assert_eq!(got.get(key).map(String::as_str), Some(value), "{text:?}");
}

fn refused(text: &str) -> ParseError {
    read(text, &[]).expect_err(text)
}

const PLAIN: &str = "OPTION_A=1\nOPTION_B=2\nOPTION_C= 3\nOPTION_D =4\nOPTION_E = 5\n456 = ABC\nOPTION_F = \nOPTION_G=\nOPTION_H = my string # Inline comment\n";
const UTF8_BOM: &str = "\u{feff}OPTION_A=1\nOPTION_B=2\nOPTION_C= 3\nOPTION_D =4\nOPTION_E = 5\n456 = ABC\nOPTION_F =\nOPTION_G=\nOPTION_H = my string # Inline comment\n";
const EXPORTED: &str = "export OPTION_A=2\nexport OPTION_B='\\n'\n";
const EQUALS: &str = "export OPTION_A='postgres://localhost:5432/database?sslmode=disable'\n\n";
const QUOTED: &str = "OPTION_A='1'\nOPTION_B='2'\nOPTION_C=''\nOPTION_D='\\n'\nOPTION_E=\"1\"\nOPTION_F=\"2\"\nOPTION_G=\"\"\nOPTION_H=\"\\n\"\nOPTION_I = \"echo 'asd'\" # Inline comment\nOPTION_J = 'first line\nsecond line\nthird line\nand so on'\nOPTION_K='Let\\'s go!'\nOPTION_Z = \"last value\"\n";
const UNQUOTED: &str = "OPTION_A = \"some quoted phrase\"\nOPTION_B=first one with an unquoted phrase\nOPTION_C = then another one with an unquoted phrase\nOPTION_D = then another one with an unquoted phrase special è char\nOPTION_E = \"then another one quoted phrase\"\n";
const SUBSTITUTIONS: &str = "OPTION_A=1\nOPTION_B=${OPTION_A}\nOPTION_C=$OPTION_B\nOPTION_D=${OPTION_A}_${OPTION_B}\nOPTION_E=${OPTION_NOT_DEFINED}\n";
const SUBSTITUTIONS_DEFAULT: &str = "OPTION_A=${OPTION_A:-1}\nOPTION_B=${OPTION_A}\nOPTION_C=$OPTION_B\nOPTION_D=${OPTION_A}_${OPTION_B}\nOPTION_E=${OPTION_NOT_DEFINED}\n";
const SPECIAL: &str =
    "VAR.WITH.DOTS=dots\nVAR_WITH_UNDERSCORES=underscores\nVAR-WITH-DASHES=dashes\n";
const INVALID1: &str =
    "# some comments\nfoo=\"\n  a\n  multine\n  value\n\"\nINVALID LINE\nzot=qix";
const INHERITED_MULTI: &str = "foo=bar\nVAR_TO_BE_LOADED_FROM_OS_ENV\nbar=baz\n";
const INHERITED_SINGLE: &str = "VAR_TO_BE_LOADED_FROM_OS_ENV\n";
const INHERITED_NOT_FOUND: &str = "VARIABLE_NOT_FOUND\n";

#[test]
fn fixtures() {
    // TestReadPlainEnv, TestUTF8BOM (456 kept: see the top of this file)
    let plain = [
        ("OPTION_A", "1"),
        ("OPTION_B", "2"),
        ("OPTION_C", "3"),
        ("OPTION_D", "4"),
        ("OPTION_E", "5"),
        ("456", "ABC"),
        ("OPTION_F", ""),
        ("OPTION_G", ""),
        ("OPTION_H", "my string"),
    ];
    gives(PLAIN, &[], &plain);
    gives(UTF8_BOM, &[], &plain);
    // TestLoadExportedEnv, TestLoadEqualsEnv
    gives(EXPORTED, &[], &[("OPTION_A", "2"), ("OPTION_B", "\\n")]);
    gives(
        EQUALS,
        &[],
        &[(
            "OPTION_A",
            "postgres://localhost:5432/database?sslmode=disable",
        )],
    );
    // TestLoadQuotedEnv
    gives(
        QUOTED,
        &[],
        &[
            ("OPTION_A", "1"),
            ("OPTION_B", "2"),
            ("OPTION_C", ""),
            ("OPTION_D", "\\n"),
            ("OPTION_E", "1"),
            ("OPTION_F", "2"),
            ("OPTION_G", ""),
            ("OPTION_H", "\n"),
            ("OPTION_I", "echo 'asd'"),
            ("OPTION_J", "first line\nsecond line\nthird line\nand so on"),
            ("OPTION_K", "Let's go!"),
            ("OPTION_Z", "last value"),
        ],
    );
    // TestLoadUnquotedEnv
    gives(
        UNQUOTED,
        &[],
        &[
            ("OPTION_A", "some quoted phrase"),
            ("OPTION_B", "first one with an unquoted phrase"),
            ("OPTION_C", "then another one with an unquoted phrase"),
            (
                "OPTION_D",
                "then another one with an unquoted phrase special è char",
            ),
            ("OPTION_E", "then another one quoted phrase"),
        ],
    );
    // TestDash
    gives(
        SPECIAL,
        &[],
        &[
            ("VAR-WITH-DASHES", "dashes"),
            ("VAR.WITH.DOTS", "dots"),
            ("VAR_WITH_UNDERSCORES", "underscores"),
        ],
    );
}

#[test]
fn substitutions_and_their_precedence() {
    let ones = [
        ("OPTION_A", "1"),
        ("OPTION_B", "1"),
        ("OPTION_C", "1"),
        ("OPTION_D", "1_1"),
        ("OPTION_E", ""),
    ];
    // TestSubstitutions, TestSubstitutionsWithUnsetVarEnvFileDefaultValuePrecedence
    gives(SUBSTITUTIONS, &[], &ones);
    gives(SUBSTITUTIONS_DEFAULT, &[], &ones);
    // TestSubstitutionsWithEnvFilePrecedence: the file sets OPTION_A, but the lines below
    // read the environment's first.
    let env = [("OPTION_A", "5")];
    gives(
        SUBSTITUTIONS,
        &env,
        &[
            ("OPTION_A", "1"),
            ("OPTION_B", "5"),
            ("OPTION_C", "5"),
            ("OPTION_D", "5_5"),
            ("OPTION_E", ""),
        ],
    );
    // TestSubstitutionsWithEnvFileDefaultValuePrecedence
    gives(
        SUBSTITUTIONS_DEFAULT,
        &env,
        &[
            ("OPTION_A", "5"),
            ("OPTION_B", "5"),
            ("OPTION_C", "5"),
            ("OPTION_D", "5_5"),
            ("OPTION_E", ""),
        ],
    );
    // TestExpandingEnvironmentWithLookup
    gives("TEST=$ME", &[("ME", "YES")], &[("TEST", "YES")]);
}

#[test]
fn expanding() {
    // TestExpanding
    let cases: [(&str, &[(&str, &str)]); 8] = [
        ("FOO=test\nBAR=$FOO", &[("FOO", "test"), ("BAR", "test")]),
        (
            "FOO=test\nBAR=${FOO}bar",
            &[("FOO", "test"), ("BAR", "testbar")],
        ),
        ("BAR=$FOO", &[("BAR", "")]),
        (
            "FOO=test\nBAR=\"quote $FOO\"",
            &[("FOO", "test"), ("BAR", "quote test")],
        ),
        ("BAR='quote $FOO'", &[("BAR", "quote $FOO")]),
        (r#"FOO="foo\$BAR""#, &[("FOO", "foo$BAR")]),
        (r#"FOO="foo\${BAR}""#, &[("FOO", "foo${BAR}")]),
        (
            "FOO=test\nBAR=\"foo\\${FOO} ${FOO}\"",
            &[("FOO", "test"), ("BAR", "foo${FOO} test")],
        ),
    ];
    for (text, want) in cases {
        gives(text, &[], want);
    }
    // TestVariableStringValueSeparator
    gives(
        "TEST_URLS=\"stratum+tcp://stratum.antpool.com:3333\nstratum+tcp://stratum.antpool.com:443\"",
        &[],
        &[(
            "TEST_URLS",
            "stratum+tcp://stratum.antpool.com:3333\nstratum+tcp://stratum.antpool.com:443",
        )],
    );
    // TestParse
    gives(
        "ONE=1\nTWO='2'\nTHREE = \"3\"",
        &[],
        &[("ONE", "1"), ("TWO", "2"), ("THREE", "3")],
    );
}

#[test]
fn expansion_operators() {
    // godotenv_var_expansion_test.go: the file's own lines are the variables (EMPTY_VAR
    // empty, TEST_VAR "Test Value"), nothing in the environment.
    let head = "EMPTY_VAR=\nTEST_VAR=Test Value\nRESULT=";
    let cases = [
        ("${UNSET_VAR:-Default Value}", "Default Value"),
        ("${EMPTY_VAR:-Default Value}", "Default Value"),
        ("${TEST_VAR:-Default Value}", "Test Value"),
        ("${UNSET_VAR-Default Value}", "Default Value"),
        ("${EMPTY_VAR-Default Value}", ""),
        ("${TEST_VAR-Default Value}", "Test Value"),
        ("${TEST_VAR:?Default Value}", "Test Value"),
        ("${EMPTY_VAR?Test error}", ""),
        ("${TEST_VAR?Default Value}", "Test Value"),
    ];
    for (t, want) in cases {
        parses(&format!("{head}{t}"), "RESULT", want);
    }
    for t in [
        "${UNSET_VAR:?Test error}",
        "${EMPTY_VAR:?Test error}",
        "${UNSET_VAR?Test error}",
    ] {
        let e = refused(&format!("{head}{t}"));
        assert_eq!(e.line, 3, "{t}");
        assert!(e.message.ends_with(": Test error"), "{t}: {e:?}");
    }
}

#[test]
fn parsing() {
    // TestParsing
    let cases = [
        ("FOO=bar", "FOO", "bar"),
        ("FOO =bar", "FOO", "bar"),
        ("FOO= bar", "FOO", "bar"),
        (r#"FOO="bar""#, "FOO", "bar"),
        ("FOO='bar'", "FOO", "bar"),
        (r#"FOO="escaped\"bar""#, "FOO", r#"escaped"bar"#),
        (r#"FOO="\"quoted\"""#, "FOO", r#""quoted""#),
        (r#"FOO="'d'""#, "FOO", "'d'"),
        ("OPTION_A: 1", "OPTION_A", "1"),
        ("OPTION_A: Foo=bar", "OPTION_A", "Foo=bar"),
        ("OPTION_A=1:B", "OPTION_A", "1:B"),
        ("export OPTION_A=2", "OPTION_A", "2"),
        (r"export OPTION_B='\n'", "OPTION_B", "\\n"),
        ("export exportFoo=2", "exportFoo", "2"),
        ("exportFOO=2", "exportFOO", "2"),
        ("export_FOO =2", "export_FOO", "2"),
        ("export.FOO= 2", "export.FOO", "2"),
        ("export\tOPTION_A=2", "OPTION_A", "2"),
        ("  export OPTION_A=2", "OPTION_A", "2"),
        ("\texport OPTION_A=2", "OPTION_A", "2"),
        (r#"export OPTION_A="export A""#, "OPTION_A", "export A"),
        (r#"FOO="bar\nbaz""#, "FOO", "bar\nbaz"),
        (r"FOO=a\tb", "FOO", r"a\tb"),
        (r#"FOO="a\tb""#, "FOO", "a\tb"),
        (
            r#"KEY="Z\aZ\bZ\fZ\nZ\rZ\tZ\vZ\\Z\0123Z""#,
            "KEY",
            "Z\u{7}Z\u{8}Z\u{c}Z\nZ\rZ\tZ\u{b}Z\\ZSZ",
        ),
        ("FOO.BAR=foobar", "FOO.BAR", "foobar"),
        ("FOO=foobar=", "FOO", "foobar="),
        ("FOO=bar ", "FOO", "bar"),
        ("FOO=bar # this is foo", "FOO", "bar"),
        ("FOO=bar #this is foo", "FOO", "bar"),
        ("FOO=bar #", "FOO", "bar"),
        (
            "FOO=123#not-an-inline-comment",
            "FOO",
            "123#not-an-inline-comment",
        ),
        (r#"FOO="bar#baz""#, "FOO", "bar#baz"),
        (r##"FOO="bar#baz"#"##, "FOO", "bar#baz"),
        (r#"FOO="bar#baz" # comment"#, "FOO", "bar#baz"),
        ("FOO='bar#baz' # comment", "FOO", "bar#baz"),
        (r#"FOO="bar#baz#bang" # comment"#, "FOO", "bar#baz#bang"),
        (r#"FOO="ba#r""#, "FOO", "ba#r"),
        ("FOO='ba#r'", "FOO", "ba#r"),
        (r#"FOO="bar\n\ b\az""#, "FOO", "bar\n\\ b\u{7}z"),
        (r#"FOO="bar\\\n\ b\az""#, "FOO", "bar\\\n\\ b\u{7}z"),
        (r#"FOO="bar\\r\ b\az""#, "FOO", "bar\\r\\ b\u{7}z"),
        (r#"FOO="bar\nbaz\\""#, "FOO", "bar\nbaz\\"),
        (r#"="value""#, "", "value"),
        (" KEY =value", "KEY", "value"),
        ("   KEY=value", "KEY", "value"),
        ("\tKEY=value", "KEY", "value"),
        (r#"KEY="\0123""#, "KEY", "S"),
        (r#"KEY="\x07""#, "KEY", r"\x07"),
        (r#"KEY="\u12e4""#, "KEY", r"\u12e4"),
        (r#"KEY="\U00101234""#, "KEY", r"\U00101234"),
    ];
    for (text, key, value) in cases {
        parses(text, key, value);
    }
    assert!(refused("lol$wut").message.contains("unexpected character"));
}

#[test]
fn unterminated_quotes() {
    // TestUnterminatedQuotes
    for text in [
        r#"KEY=""#,
        r#"KEY="value"#,
        r#"KEY="value\""#,
        r#"KEY="value'"#,
        "KEY='",
        "KEY='value",
        r"KEY='value\'",
        r#"KEY='value""#,
    ] {
        let e = refused(text);
        assert_eq!(e.line, 1, "{text}");
        assert!(
            e.message
                .starts_with(&format!("unterminated quoted value {}", &text[4..])),
            "{text}: {e:?}"
        );
    }
}

#[test]
fn lines_to_ignore() {
    // TestLinesToIgnore
    for text in ["\n", "\r\n", "\t\t ", "# Comment", "\t # comment"] {
        gives(text, &[], &[]);
    }
    gives(r"export OPTION_B='\n'", &[], &[("OPTION_B", "\\n")]);
}

#[test]
fn errors_say_the_line() {
    // TestErrorParsing: "line 7: key cannot contain a space"
    assert_eq!(
        refused(INVALID1),
        ParseError {
            line: 7,
            message: "key cannot contain a space".into()
        }
    );
    // TestParseVariable: line 1: unexpected character "%" in variable name "%!(EXTRA string)=foo"
    let e = refused("%!(EXTRA string)=foo");
    assert_eq!(e.line, 1);
    assert_eq!(
        e.message,
        r#"unexpected character '%' in variable name "%!(EXTRA string)=foo""#
    );
}

#[test]
fn inherited_variables() {
    // TestInheritedEnvVariableSameSize, ...SingleVar, ...NotFound
    let env = [("VAR_TO_BE_LOADED_FROM_OS_ENV", "SOME_RANDOM_VALUE")];
    gives(
        INHERITED_MULTI,
        &env,
        &[
            ("VAR_TO_BE_LOADED_FROM_OS_ENV", "SOME_RANDOM_VALUE"),
            ("foo", "bar"),
            ("bar", "baz"),
        ],
    );
    gives(
        INHERITED_SINGLE,
        &env,
        &[("VAR_TO_BE_LOADED_FROM_OS_ENV", "SOME_RANDOM_VALUE")],
    );
    gives(INHERITED_NOT_FOUND, &[], &[]);
}

#[test]
fn keys_of_any_letters() {
    // TestParseBytes
    gives(
        "\na=b\na[1]=c\na.propertyKey=d\nárvíztűrő-TÜKÖRFÚRÓGÉP=ÁRVÍZTŰRŐ-tükörfúrógép\n",
        &[],
        &[
            ("a", "b"),
            ("a[1]", "c"),
            ("a.propertyKey", "d"),
            ("árvíztűrő-TÜKÖRFÚRÓGÉP", "ÁRVÍZTŰRŐ-tükörfúrógép"),
        ],
    );
    // TestMemoryExplosion's input: a thousand lines, a thousand keys.
    let text: Vec<String> = (0..1000).map(|i| format!("KEY{i}=VALUE{i}")).collect();
    let got = read(&text.join("\n"), &[]).expect("read");
    assert_eq!(got.len(), 1000);
    assert_eq!(got.get("KEY999").map(String::as_str), Some("VALUE999"));
}

#[test]
fn lines_are_counted_through_values_keys_and_comments() {
    // Not compose-go's cases: where compose-go says no line (an interpolation error), we say
    // the line of the value; elsewhere the line it says.
    let line = |text: &str| refused(text).line;
    assert_eq!(line("# c\n\nA=1\nB C=2\n"), 4);
    // A bare key is a line; a bare key with a space is refused on its own line.
    assert_eq!(line("INHERITED\nB C=2\n"), 2);
    assert_eq!(line("A B\nC=1\n"), 1);
    // A quoted value's line breaks count.
    assert_eq!(line("A=\"1\n2\n3\"\nB C=2\n"), 4);
    assert_eq!(line("A='1\n2'\nB=${1}\n"), 3);
    assert_eq!(line("A=1\nB=${C:?no}\nD=1\n"), 2);
}

#[test]
fn octal_escapes_take_exactly_three_digits_to_a_byte() {
    // compose-go's `\0` + up to three digits, read by Go's UnquoteChar: three octal digits
    // below 0o400 are a character; anything else stays as written.
    parses(r#"KEY="\0101""#, "KEY", "A");
    parses(r#"KEY="\0377""#, "KEY", "\u{ff}");
    parses(r#"KEY="\0400""#, "KEY", r"\0400");
    parses(r#"KEY="\012""#, "KEY", r"\012");
    parses(r#"KEY="\0""#, "KEY", r"\0");
    parses(r#"KEY="\0101x""#, "KEY", "Ax");
    parses(r#"KEY="\01011""#, "KEY", "A1");
    parses(r#"KEY="\0089""#, "KEY", r"\0089");
}
