complete -c notify -l to -d 'A webhook URL to send to (repeatable); added to those in NOTIFY_URL' -r
complete -c notify -l format -d 'The payload shape for every target, whatever their URLs say' -r -f -a "slack\t''
discord\t''
teams\t''
ntfy\t''
gotify\t''
json\t''"
complete -c notify -l on -d 'When to send: always, or only when a record failed, when none failed, or when a component was updated' -r -f -a "always\t''
failure\t''
success\t''
update\t''"
complete -c notify -l title -d 'The title; placeholders {status} {count} {failed} {updated} {names} (with --each, those of --text; with --message, sent as given)' -r
complete -c notify -l text -d 'The line for each component; placeholders {name} {current} {latest} {image} {error} {status} {source} {digest}' -r
complete -c notify -l message -d 'Send TEXT alone, and read no stdin' -r
complete -c notify -l status -d 'What --message tells, shown as each service shows it (colour, tags, priority): success, failure, or info when it says neither' -r -f -a "success\t'Green, a check mark'
failure\t'Red, an alarm, a higher priority'
info\t'Blue: neither (what TEXT says, notify cannot know)'"
complete -c notify -l state -d 'Send only when the outcome differs from the last run\'s, as kept in FILE' -r -F
complete -c notify -l timeout -d 'Give up on one request after this long' -r
complete -c notify -l retries -d 'Further tries after a network error, a 5xx or a 429' -r
complete -c notify -l retry-delay -d 'Wait before the first further try (doubled for each next one; a 429\'s Retry-After takes its place)' -r
complete -c notify -s q -l quiet -d 'Print only errors on stderr'
complete -c notify -s v -l verbose -d 'Say more on stderr about what is being done'
complete -c notify -l each -d 'One message per record instead of one summary'
complete -c notify -l exit-delivery -d 'Exit with the deliveries\' status alone (0 sent or nothing to send, 1 refused, 75 not delivered), not the records\': for scripts that know the flow\'s own status'
complete -c notify -l print -d 'Print the message as text on stdout (its title, then one line per component) instead of passing the records through, and send it nowhere: for a person at a terminal'
complete -c notify -s h -l help -d 'Print help (see more with \'--help\')'
complete -c notify -s V -l version -d 'Print version'
