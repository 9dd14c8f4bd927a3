complete -c retry -s n -l attempts -d 'How many attempts in all (at least 1)' -r
complete -c retry -l delay -d 'Wait before the second attempt; the curve grows from here' -r
complete -c retry -l max-delay -d 'Never wait longer than this between attempts' -r
complete -c retry -l backoff -d 'How the wait grows: delay×2^(n-1), delay×n, or delay' -r -f -a "exponential\t''
linear\t''
constant\t''"
complete -c retry -l timeout -d 'Stop an attempt that runs longer than this (TERM to its process group, then KILL)' -r
complete -c retry -l grace -d 'Time between TERM and KILL when an attempt is stopped' -r
complete -c retry -l deadline -d 'Give up when all attempts together (per record with --each) would run past this' -r
complete -c retry -l on -d 'Which failures to retry: any non-zero status, transient (exit 75 or a timed-out attempt), or a list of exit codes such as 3,4 (124 stands for a timed-out attempt)' -r
complete -c retry -l max-input -d 'The most stdin kept for replay; more is refused with exit 65' -r
complete -c retry -l step -d 'With --each: the step name in the record\'s steps and error (default: COMMAND\'s name)' -r
complete -c retry -s q -l quiet -d 'Print only errors on stderr'
complete -c retry -s v -l verbose -d 'Say more on stderr about what is being done'
complete -c retry -l no-jitter -d 'Wait exactly the curve\'s value (jitter picks a wait in [½d, d] otherwise)'
complete -c retry -l each -d 'Run COMMAND once per record on stdin (the record on its stdin, its fields in FLOW_NAME, FLOW_CURRENT, FLOW_LATEST, FLOW_IMAGE, FLOW_IMAGES); mark the record failed if the last attempt fails, and after a signal every record not yet run (transient). COMMAND\'s stdout goes to stderr: stdout carries the records'
complete -c retry -l all -d 'With --each: act on every ok record, not only those with "update": true'
complete -c retry -s h -l help -d 'Print help (see more with \'--help\')'
complete -c retry -s V -l version -d 'Print version'
