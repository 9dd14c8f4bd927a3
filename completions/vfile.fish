# Print an optspec for argparse to handle cmd's options that are independent of any subcommand.
function __fish_vfile_global_optspecs
    string join \n q/quiet v/verbose h/help V/version
end

function __fish_vfile_needs_command
    # Figure out if the current invocation already has a command.
    set -l cmd (commandline -opc)
    set -e cmd[1]
    argparse -s (__fish_vfile_global_optspecs) -- $cmd 2>/dev/null
    or return
    if set -q argv[1]
        # Also print the command, so this can be used to figure out what it is.
        echo $argv[1]
        return 1
    end
    return 0
end

function __fish_vfile_using_subcommand
    set -l cmd (__fish_vfile_needs_command)
    test -z "$cmd"
    and return 1
    contains -- $cmd[1] $argv
end

complete -c vfile -n "__fish_vfile_needs_command" -s q -l quiet -d 'Print only errors on stderr'
complete -c vfile -n "__fish_vfile_needs_command" -s v -l verbose -d 'Say more on stderr about what is being done'
complete -c vfile -n "__fish_vfile_needs_command" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c vfile -n "__fish_vfile_needs_command" -s V -l version -d 'Print version'
complete -c vfile -n "__fish_vfile_needs_command" -f -a "get" -d 'Print the value of KEY (exit 1 if it is not set)'
complete -c vfile -n "__fish_vfile_needs_command" -f -a "set" -d 'Set one or more keys, in one atomic write'
complete -c vfile -n "__fish_vfile_needs_command" -f -a "quarantine" -d 'Read flow records on stdin and quarantine the version of each that failed its restart or health gate (error step restart or health, kind permanent): vcheck does not offer it again until a newer one comes or `vfile release`; pass every record on'
complete -c vfile -n "__fish_vfile_needs_command" -f -a "release" -d 'Release components: end their hold and clear their quarantined versions'
complete -c vfile -n "__fish_vfile_needs_command" -f -a "unset" -d 'Remove one or more keys, in one atomic write'
complete -c vfile -n "__fish_vfile_needs_command" -f -a "show" -d 'Print the whole file as one JSON object'
complete -c vfile -n "__fish_vfile_needs_command" -f -a "record" -d 'Read flow records on stdin; write `latest` under `name` for each record that is ok and an update, in one atomic write at the end of the stream; pass every record on'
complete -c vfile -n "__fish_vfile_using_subcommand get" -s q -l quiet -d 'Print only errors on stderr'
complete -c vfile -n "__fish_vfile_using_subcommand get" -s v -l verbose -d 'Say more on stderr about what is being done'
complete -c vfile -n "__fish_vfile_using_subcommand get" -s h -l help -d 'Print help'
complete -c vfile -n "__fish_vfile_using_subcommand set" -l history -d 'Append one JSON line per change ({"time","key","from","to"}) to LOG, as record does' -r -F
complete -c vfile -n "__fish_vfile_using_subcommand set" -l hold -d 'Hold these components at these versions: vcheck offers no update for them until `vfile release` (kept in FILE.pins.json)'
complete -c vfile -n "__fish_vfile_using_subcommand set" -s q -l quiet -d 'Print only errors on stderr'
complete -c vfile -n "__fish_vfile_using_subcommand set" -s v -l verbose -d 'Say more on stderr about what is being done'
complete -c vfile -n "__fish_vfile_using_subcommand set" -s h -l help -d 'Print help'
complete -c vfile -n "__fish_vfile_using_subcommand quarantine" -s q -l quiet -d 'Print only errors on stderr'
complete -c vfile -n "__fish_vfile_using_subcommand quarantine" -s v -l verbose -d 'Say more on stderr about what is being done'
complete -c vfile -n "__fish_vfile_using_subcommand quarantine" -s h -l help -d 'Print help'
complete -c vfile -n "__fish_vfile_using_subcommand release" -s q -l quiet -d 'Print only errors on stderr'
complete -c vfile -n "__fish_vfile_using_subcommand release" -s v -l verbose -d 'Say more on stderr about what is being done'
complete -c vfile -n "__fish_vfile_using_subcommand release" -s h -l help -d 'Print help'
complete -c vfile -n "__fish_vfile_using_subcommand unset" -s q -l quiet -d 'Print only errors on stderr'
complete -c vfile -n "__fish_vfile_using_subcommand unset" -s v -l verbose -d 'Say more on stderr about what is being done'
complete -c vfile -n "__fish_vfile_using_subcommand unset" -s h -l help -d 'Print help'
complete -c vfile -n "__fish_vfile_using_subcommand show" -s q -l quiet -d 'Print only errors on stderr'
complete -c vfile -n "__fish_vfile_using_subcommand show" -s v -l verbose -d 'Say more on stderr about what is being done'
complete -c vfile -n "__fish_vfile_using_subcommand show" -s h -l help -d 'Print help'
complete -c vfile -n "__fish_vfile_using_subcommand record" -l history -d 'Append one JSON line per change ({"time","key","from","to"}) to LOG' -r -F
complete -c vfile -n "__fish_vfile_using_subcommand record" -l atomic -d 'Record nothing unless every record on stdin is ok'
complete -c vfile -n "__fish_vfile_using_subcommand record" -l all -d 'Record every ok record, not only those with "update": true'
complete -c vfile -n "__fish_vfile_using_subcommand record" -s q -l quiet -d 'Print only errors on stderr'
complete -c vfile -n "__fish_vfile_using_subcommand record" -s v -l verbose -d 'Say more on stderr about what is being done'
complete -c vfile -n "__fish_vfile_using_subcommand record" -s h -l help -d 'Print help (see more with \'--help\')'
