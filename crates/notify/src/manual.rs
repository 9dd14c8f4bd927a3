//! `notify`'s manual apart from its options: examples, exit status, environment, files. The
//! same text ends `--help` and fills the man page's sections (see `pullfirst::manual`).

use pullfirst::manual::{Example, Manual};

pub const MANUAL: Manual = Manual {
    notes: &[(
        "Targets",
        "Targets come from --to and from NOTIFY_URL (space-separated); prefer NOTIFY_URL, since\n\
         arguments are visible to every user of the machine. Webhook URLs are secrets: they are\n\
         never printed, and errors show only what is not secret. An https:// URL's shape\n\
         follows it (hooks.slack.com, discord.com/api/webhooks, *.webhook.office.com, ntfy.sh,\n\
         Gotify's /message?token=, else generic JSON); a FORMAT+ prefix (slack+https://...) or\n\
         --format sets it. Services also take their own URLs, as shoutrrr writes them:\n\
         telegram://, matrix://, mattermost://, rocketchat://, googlechat://, pushover://,\n\
         pushbullet://, zulip://, bark://, signal://, hassio://, and for e-mail smtp://,\n\
         smtps:// (shoutrrr's) and mailto://, mailtos:// (apprise's).\n\
         Records are passed through unchanged whatever happens to the message.",
    )],
    examples: &[
        Example {
            about: "Pull, record, and tell NOTIFY_URL what happened",
            run: "ipull < checked.jsonl | vfile record versions.env | notify",
        },
        Example {
            about: "Only when something failed, and only once per new outcome",
            run: "notify --on failure --state notify.state < pulled.jsonl",
        },
        Example {
            about: "One message per record, in your own words",
            run: "notify --each --text '{name}: {current} -> {latest} ({status})' < pulled.jsonl",
        },
        Example {
            about: "A message of your own, without records",
            run: "notify --message 'nightly update skipped: maintenance window'",
        },
        Example {
            about: "A failure of your own, shown as a failure (red, an alarm, a higher priority)",
            run: "notify --message 'update failed at restart; previous images restored' --status failure",
        },
        Example {
            about: "Another target in ntfy's shape, beside NOTIFY_URL",
            run: "notify --to \"ntfy+$NOTIFY_URL\" < pulled.jsonl",
        },
    ],
    exit_status: &[
        (0, "sent (or nothing to send) and every record ok"),
        (
            1,
            "a record failed (not counted with --exit-delivery), or a service refused the message",
        ),
        (2, "usage: bad flags, arguments or target URLs"),
        (65, "bad input: a malformed record; nothing was sent"),
        (
            74,
            "an I/O error of its own: stdout or the --state file could not be written",
        ),
        (75, "only transient failures: network, 5xx, 429"),
    ],
    environment: &[(
        "NOTIFY_URL",
        "the targets, space-separated (secrets: never printed)",
    )],
    files: &[(
        "--state FILE",
        "the last outcome sent, to send only on a change; replaced atomically",
    )],
};
