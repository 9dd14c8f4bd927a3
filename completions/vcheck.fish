complete -c vcheck -l versions -d 'Current versions from a version file (the format vfile writes)' -r -F
complete -c vcheck -l current -d 'The current version, with a single NAME=SOURCE' -r
complete -c vcheck -l match -d 'Keep only versions (tags) matching REGEX' -r
complete -c vcheck -l exclude -d 'Drop versions (tags) matching REGEX, e.g. known-bad releases (a REGEX may start with -)' -r
complete -c vcheck -l min-age -d 'Skip GitHub releases younger than DUR (a fresh release gets time to be pulled back)' -r
complete -c vcheck -l image -d 'The image to set on each record: {name} and {latest} are filled in (registry sources default to HOST/REPO:{latest})' -r
complete -c vcheck -l jobs -d 'Checks run at once' -r
complete -c vcheck -l timeout -d 'Give up on a request after this long' -r
complete -c vcheck -l page-size -d 'Tags asked for per page when listing a registry\'s tags' -r
complete -c vcheck -l insecure-registry -d 'Talk plain HTTP to this registry host (loopback hosts always are)' -r
complete -c vcheck -s q -l quiet -d 'Print only errors on stderr'
complete -c vcheck -s v -l verbose -d 'Say more on stderr about what is being done'
complete -c vcheck -l prerelease -d 'Admit prereleases (-rc.1, -beta, GitHub prereleases)'
complete -c vcheck -l no-cache -d 'Neither use nor fill the ETag cache'
complete -c vcheck -s h -l help -d 'Print help (see more with \'--help\')'
complete -c vcheck -s V -l version -d 'Print version'
