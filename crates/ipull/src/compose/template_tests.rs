//! compose-go's own interpolation cases, run against our reader: what each template becomes
//! with compose-go's test variables, or which error it is.
//!
//! Ported (the data, not the code) from github.com/compose-spec/compose-go at commit
//! e70e961c3a3acebf0800b882f1afb3dbf1fb74a2: `template/template_test.go` (every test of
//! `Substitute`; `TestSubstituteWithCustomFunc` and the replacement-function tests exercise Go
//! hooks we do not have, so only their plain `Substitute` case is here) and the string cases
//! of `interpolation/interpolation_test.go` (`TestValidUnexistentInterpolation`,
//! `TestValidExistentInterpolation`; its tree cases are in `load_tests.rs`).
//!
//! Where compose-go logs a warning for a variable used without a default and not set, our
//! reader calls `unset` with its name: the lists below are those warnings.

use super::template::{substitute, TemplateError, Vars};

/// `template_test.go`'s `defaults`.
const DEFAULTS: &[(&str, &str)] = &[("FOO", "first"), ("BAR", ""), ("JSON", r#"{"json":2}"#)];
/// `interpolation_test.go`'s `defaults`.
const INTERPOLATION: &[(&str, &str)] = &[
    ("USER", "jenny"),
    ("FOO", "bar"),
    ("count", "5"),
    ("REQUIRED", "true"),
];

/// `template` interpolated with `vars`, and the variables reported unset, in order.
fn run(template: &str, vars: &[(&str, &str)]) -> (Result<String, TemplateError>, Vec<String>) {
    let lookup = |k: &str| {
        vars.iter()
            .find(|(n, _)| *n == k)
            .map(|(_, v)| v.to_string())
    };
    let mut unset = Vec::new();
    let mut note = |k: &str| {
        unset.push(k.to_string());
        String::new()
    };
    let r = substitute(
        template,
        &mut Vars {
            lookup: &lookup,
            unset: &mut note,
        },
    );
    (r, unset)
}

fn ok(template: &str, vars: &[(&str, &str)], expected: &str) {
    assert_eq!(
        run(template, vars).0.as_deref(),
        Ok(expected),
        "template {template:?}"
    );
}

fn required(template: &str, vars: &[(&str, &str)], name: &str, reason: &str) {
    assert_eq!(
        run(template, vars).0,
        Err(TemplateError::Required {
            name: name.into(),
            reason: reason.into()
        }),
        "template {template:?}"
    );
}

#[test]
fn escaped_unescaped_and_plain_text() {
    // TestEscaped, TestSubstituteNoMatch, TestUnescaped.
    ok("$${foo}", DEFAULTS, "${foo}");
    ok("foo", DEFAULTS, "foo");
    for t in ["a $ string", "^REGEX$", "$}", "$"] {
        ok(t, DEFAULTS, t);
    }
}

#[test]
fn invalid_templates() {
    // TestInvalid, and TestInvalidInterpolation's `${`.
    for t in ["${", "${}", "${ }", "${ foo}", "${foo }", "${foo!}"] {
        assert_eq!(
            run(t, DEFAULTS).0,
            Err(TemplateError::Invalid(t.to_string())),
            "template {t:?}"
        );
    }
    assert_eq!(
        TemplateError::Invalid("${".into()).to_string(),
        r#"invalid interpolation in "${" (write $$ for a dollar)"#
    );
}

#[test]
fn values_and_defaults() {
    let cases = [
        // TestNonBraced (docker/compose#8601)
        ("$FOO-bar", "first-bar"),
        // TestNoValueNoDefault
        ("This ${missing} var", "This  var"),
        ("This ${BAR} var", "This  var"),
        // TestValueNoDefault
        ("This $FOO var", "This first var"),
        ("This ${FOO} var", "This first var"),
        // TestNoValueWithDefault
        ("ok ${missing:-def}", "ok def"),
        ("ok ${missing-def}", "ok def"),
        // TestEmptyValueWithSoftDefault, TestValueWithSoftDefault, TestEmptyValueWithHardDefault
        ("ok ${BAR:-def}", "ok def"),
        ("ok ${FOO:-def}", "ok first"),
        ("ok ${BAR-def}", "ok "),
        // TestPresentValue*
        ("ok ${UNSET_VAR:+presence_value}", "ok "),
        ("ok ${UNSET_VAR+presence_value}", "ok "),
        ("ok ${FOO:+presence_value}", "ok presence_value"),
        ("ok ${FOO+presence_value}", "ok presence_value"),
        ("ok ${BAR+presence_value}", "ok presence_value"),
        ("ok ${BAR:+presence_value}", "ok "),
        // TestNonAlphanumericDefault
        ("ok ${BAR:-/non:-alphanumeric}", "ok /non:-alphanumeric"),
        // TestDefaultsForMandatoryVariables
        ("ok ${FOO:?err}", "ok first"),
        ("ok ${FOO?err}", "ok first"),
        ("ok ${BAR?err}", "ok "),
        // TestSubstituteWithReplacementFunc's plain case
        ("ok ${SUBDOMAIN:-redis}.${FOO:?}", "ok redis.first"),
        // TestNoValueWithCurlyBracesDefault, TestValueWithCurlyBracesDefault
        (r#"ok ${missing:-{"json":1}}"#, r#"ok {"json":1}"#),
        (r#"ok ${missing-{"json":1}}"#, r#"ok {"json":1}"#),
        (r#"ok ${JSON:-{"json":1}}"#, r#"ok {"json":2}"#),
        (r#"ok ${JSON-{"json":1}}"#, r#"ok {"json":2}"#),
    ];
    for (t, want) in cases {
        ok(t, DEFAULTS, want);
    }
}

#[test]
fn outer_text_does_not_interfere() {
    // TestInterpolationExternalInterference
    let cases = [
        ("-ok ${BAR:-defaultValue}", "-ok defaultValue"),
        ("+ok ${UNSET:-${BAR-defaultValue}}", "+ok "),
        ("-ok ${FOO:-defaultValue}", "-ok first"),
        (":-ok ${UNSET-defaultValue}", ":-ok defaultValue"),
        (":-ok ${BAR-defaultValue}", ":-ok "),
        (":?ok ${BAR-defaultValue}", ":?ok "),
        (":?ok ${BAR:-defaultValue}", ":?ok defaultValue"),
        (":+ok ${BAR:-defaultValue}", ":+ok defaultValue"),
        ("+ok ${BAR-defaultValue}", "+ok "),
        ("?ok ${BAR:-defaultValue}", "?ok defaultValue"),
    ];
    for (t, want) in cases {
        ok(t, DEFAULTS, want);
    }
}

#[test]
fn defaults_hold_further_expansions() {
    // TestDefaultsWithNestedExpansion
    let cases = [
        ("ok ${UNSET_VAR-$FOO}", "ok first"),
        ("ok ${UNSET_VAR-${FOO}}", "ok first"),
        ("ok ${UNSET_VAR-${FOO} ${FOO}}", "ok first first"),
        ("ok ${BAR:-$FOO}", "ok first"),
        ("ok ${BAR:-${FOO}}", "ok first"),
        ("ok ${BAR:-${FOO} ${FOO}}", "ok first first"),
        ("ok ${BAR+$FOO}", "ok first"),
        ("ok ${BAR+$FOO ${FOO:+second}}", "ok first second"),
    ];
    for (t, want) in cases {
        ok(t, DEFAULTS, want);
    }
}

#[test]
fn required_variables() {
    // TestMandatoryVariableErrors, TestMandatoryVariableErrorsWithNestedExpansion
    let cases = [
        (
            "not ok ${UNSET_VAR:?Mandatory Variable Unset}",
            "UNSET_VAR",
            "Mandatory Variable Unset",
        ),
        (
            "not ok ${BAR:?Mandatory Variable Empty}",
            "BAR",
            "Mandatory Variable Empty",
        ),
        ("not ok ${UNSET_VAR:?}", "UNSET_VAR", ""),
        (
            "not ok ${UNSET_VAR?Mandatory Variable Unset}",
            "UNSET_VAR",
            "Mandatory Variable Unset",
        ),
        ("not ok ${UNSET_VAR?}", "UNSET_VAR", ""),
        (
            "not ok ${UNSET_VAR:?Mandatory Variable ${FOO}}",
            "UNSET_VAR",
            "Mandatory Variable first",
        ),
        (
            "not ok ${UNSET_VAR?Mandatory Variable ${FOO}}",
            "UNSET_VAR",
            "Mandatory Variable first",
        ),
        // TestPrecedence: the first operator after the name decides.
        ("${UNSET_VAR?bar-baz}", "UNSET_VAR", "bar-baz"),
    ];
    for (t, name, reason) in cases {
        required(t, DEFAULTS, name, reason);
    }
    // compose-go says "required variable X is missing a value[: reason]"; ours says it so.
    let e = |name: &str, reason: &str| {
        TemplateError::Required {
            name: name.into(),
            reason: reason.into(),
        }
        .to_string()
    };
    assert_eq!(e("UNSET_VAR", ""), "needs UNSET_VAR, which is not set");
    assert_eq!(e("UNSET_VAR", "why"), "needs UNSET_VAR: why");
}

#[test]
fn precedence_is_the_first_operator() {
    // TestPrecedence
    ok("${UNSET_VAR-myerror?msg}", DEFAULTS, "myerror?msg");
    ok("${FOO?bar-baz}", DEFAULTS, "first");
    ok(
        "${BAR:-default_value_for_empty_var}",
        DEFAULTS,
        "default_value_for_empty_var",
    );
    ok(
        "${UNSET_VAR-default_value_for_unset_var}",
        DEFAULTS,
        "default_value_for_unset_var",
    );
}

#[test]
fn substitution_function_choice() {
    // TestSubstitutionFunctionChoice: which operator `getSubstitutionFunctionForTemplate`
    // picks, told here by what `${input}` gives with VARNAME unset, empty and set.
    let cases = [
        ("VARNAME:?val?ue", ":?"),
        ("VARNAME?val:?ue", "?"),
        ("VARNAME?va-lu+e:?e", "?"),
        ("VARNAME?va+lu-e:?e", "?"),
        ("VARNAME:-value", ":-"),
        ("VARNAME-va:-lu:?e", "-"),
        ("VARNAME-va+lu?e", "-"),
        ("VARNAME-va?lu+e", "-"),
        ("VARNAME:+va:?lu:-e", ":+"),
        ("VARNAME+va:+lue", "+"),
        ("VARNAME+va?lu-e", "+"),
        ("VARNAME+va-lu?e", "+"),
    ];
    for (input, symbol) in cases {
        let word = &input["VARNAME".len() + symbol.len()..];
        let t = format!("${{{input}}}");
        let got = |value: Option<&str>| {
            let vars: Vec<(&str, &str)> = value.map(|v| ("VARNAME", v)).into_iter().collect();
            run(&t, &vars).0
        };
        let word_ok = Ok(word.to_string());
        let missing = Err(TemplateError::Required {
            name: "VARNAME".into(),
            reason: word.into(),
        });
        // (unset, empty, set to "v")
        let expected = match symbol {
            ":?" => (missing.clone(), missing, Ok("v".into())),
            "?" => (missing, Ok(String::new()), Ok("v".into())),
            ":-" => (word_ok.clone(), word_ok, Ok("v".into())),
            "-" => (word_ok, Ok(String::new()), Ok("v".into())),
            ":+" => (Ok(String::new()), Ok(String::new()), word_ok),
            _ => (Ok(String::new()), word_ok.clone(), word_ok),
        };
        assert_eq!(
            (got(None), got(Some("")), got(Some("v"))),
            expected,
            "{input}: {symbol}"
        );
    }
}

#[test]
fn warnings_only_for_values_used() {
    // TestLazyDefaultDoesNotWarn, TestLazyDefaultWarnsWhenUsed,
    // TestLazyRequiredMessageDoesNotWarn
    assert_eq!(run("${A:+${A},}B", DEFAULTS), (Ok("B".into()), Vec::new()));
    assert_eq!(
        run("${A:-${B}}", DEFAULTS),
        (Ok(String::new()), vec!["B".to_string()])
    );
    assert_eq!(
        run("${A?${B}}", &[("A", "value")]),
        (Ok("value".into()), Vec::new())
    );
}

#[test]
fn unexistent_interpolation() {
    // TestValidUnexistentInterpolation (nothing set; FOO and BAR unset)
    let cases = [
        ("{{{ ${FOO:-foo_} }}}", "{{{ foo_ }}}"),
        ("{{{ ${FOO:-foo-bar-value} }}}", "{{{ foo-bar-value }}}"),
        ("{{{ ${FOO:-foo?bar?value} }}}", "{{{ foo?bar?value }}}"),
        ("{{{ ${FOO:-foo:?bar:?value} }}}", "{{{ foo:?bar:?value }}}"),
        (
            "{{{ ${FOO:-foo} ${BAR:-DEFAULT_VALUE} }}}",
            "{{{ foo DEFAULT_VALUE }}}",
        ),
        ("{{{ ${BAR} }}}", "{{{  }}}"),
        ("${FOO:-baz} }}}", "baz }}}"),
        ("${FOO-baz} }}}", "baz }}}"),
        ("${FOO:-${BAR:-${ZOT:-qix}}}", "qix"),
        ("${FOO:-${BAR:-x}_test_${BAR:-y}}", "x_test_y"),
        ("${FOO:-${BAR:-x}_test}", "x_test"),
        ("${FOO:-${BAR:-${ZOT:-x}}_test}", "x_test"),
    ];
    for (t, want) in cases {
        ok(t, &[], want);
    }
    let errors = [
        ("{{{ ${FOO:?foo_} }}}", "foo_"),
        ("{{{ ${FOO:?foo-bar-value} }}}", "foo-bar-value"),
        ("{{{ ${FOO:?foo} ${BAR:-DEFAULT_VALUE} }}}", "foo"),
        ("${FOO:?foo} ${BAR:?bar}", "foo"),
        ("${FOO:?baz} }}}", "baz"),
        ("${FOO?baz} }}}", "baz"),
    ];
    for (t, reason) in errors {
        required(t, &[], "FOO", reason);
    }
}

#[test]
fn existent_interpolation() {
    // TestValidExistentInterpolation
    let cases = [
        ("{{{ ${FOO:-foo_} }}}", "{{{ bar }}}"),
        ("{{{ ${FOO:-foo-bar-value} }}}", "{{{ bar }}}"),
        (
            "{{{ ${FOO:-foo} ${BAR:-DEFAULT_VALUE} }}}",
            "{{{ bar DEFAULT_VALUE }}}",
        ),
        ("{{{ ${BAR} }}}", "{{{  }}}"),
        ("${FOO:-baz} }}}", "bar }}}"),
        ("${FOO-baz} }}}", "bar }}}"),
        ("{{{ ${FOO:-foo} ${USER:-bar} }}}", "{{{ bar jenny }}}"),
        ("{{{ ${USER} }}}", "{{{ jenny }}}"),
    ];
    for (t, want) in cases {
        ok(t, INTERPOLATION, want);
    }
}
