complete -c vcheck -l nvchecker -d 'Components from an nvchecker configuration file (its entries whose sources vcheck has; the others are reported as failed records); current versions from its oldver file unless --versions is given' -r -F
complete -c vcheck -l keyfile -d 'Tokens from an nvchecker keyfile: its [keys] table, by host ("github.com" = "…"). For its host a key wins over GITHUB_TOKEN, GITLAB_TOKEN and GITEA_TOKEN (default: the keyfile named in --nvchecker\'s __config__)' -r -F
complete -c vcheck -l versions -d 'Current versions from a version file (the format vfile writes)' -r -F
complete -c vcheck -l current -d 'The current version, with a single NAME=SOURCE' -r
complete -c vcheck -l match -d 'Keep only tags matching REGEX (as upstream spells them)' -r
complete -c vcheck -l exclude -d 'Drop tags matching REGEX, e.g. known-bad releases (a REGEX may start with -)' -r
complete -c vcheck -l prefix -d 'Take PREFIX off the front of tags (and of the current version) before reading them as versions, e.g. controller- for controller-v1.14.3; {latest} is then v1.14.3' -r
complete -c vcheck -l from-pattern -d 'Rewrite tags matching REGEX into versions with --to-pattern (after --prefix), e.g. --from-pattern \'^version/(.*)$\' --to-pattern \'$1\'' -r
complete -c vcheck -l to-pattern -d 'What --from-pattern\'s match becomes: $1, ${name} are its groups' -r
complete -c vcheck -l min-age -d 'Skip releases (GitHub, GitLab, Gitea) younger than DUR (a fresh release gets time to be pulled back)' -r
complete -c vcheck -l image -d 'The image to set on each record: {name}, {latest} (the version as an image tag) and {tag} (upstream\'s tag) are filled in (registry sources default to HOST/REPO:{tag})' -r
complete -c vcheck -l jobs -d 'Checks run at once, and requests at once to one server (at most 100 to one that speaks HTTP/2, all over one connection). Without it: 100 checks, and to one server 100 over HTTP/2 or 32 over HTTP/1.1 (a connection each). A server\'s first request goes alone, to learn which' -r
complete -c vcheck -l timeout -d 'Give up on a request after this long' -r
complete -c vcheck -l page-size -d 'Tags asked for per page when listing a registry\'s tags' -r
complete -c vcheck -l insecure-registry -d 'Talk plain HTTP to this registry host (loopback hosts always are)' -r
complete -c vcheck -s q -l quiet -d 'Print only errors on stderr'
complete -c vcheck -s v -l verbose -d 'Say more on stderr about what is being done'
complete -c vcheck -l prerelease -d 'Admit prereleases (-rc.1, -beta, GitHub prereleases)'
complete -c vcheck -l no-cache -d 'Neither use nor fill the ETag cache'
complete -c vcheck -s h -l help -d 'Print help (see more with \'--help\')'
complete -c vcheck -s V -l version -d 'Print version'
