complete -c ipull -l image -d 'The image for records that have none: NAME=TEMPLATE with {name} and {latest}' -r
complete -c ipull -l compose -d 'Pull the image of every service a compose project runs, resolved as docker compose v2 does, one record per service. Repeatable, merged in order like docker compose\'s -f; one DIR, or one FILE named as compose names them (compose.yaml, docker-compose.yml, …), brings its override file (compose.override.yml, …) as docker compose without -f does' -r -F
complete -c ipull -l env-file -d 'With --compose: read variables from FILE instead of the project\'s .env (repeatable, a later file wins; the process environment wins over both)' -r -F
complete -c ipull -l profile -d 'With --compose: enable the services of profile NAME (repeatable; default COMPOSE_PROFILES; \'*\' enables all)' -r
complete -c ipull -l host -d 'A Docker engine to pull on (repeatable): unix:///path, tcp://host:port (TLS when DOCKER_TLS_VERIFY is set, with ca.pem, cert.pem and key.pem from DOCKER_CERT_PATH) or https://host:port, or ssh://[user@]host[:port] (through `ssh … docker system dial-stdio` on the host, as the docker CLI; IPULL_SSH_COMMAND replaces `ssh`); default DOCKER_HOST, else the local socket' -r
complete -c ipull -l hosts -d 'Engines from a file, one URL a line (blank lines and # comments skipped), as --host' -r -F
complete -c ipull -l context -d 'A docker CLI context (repeatable), read from its context store under DOCKER_CONFIG; without --host, --hosts, --context and DOCKER_HOST, DOCKER_CONTEXT or the config\'s currentContext applies, as for the docker CLI' -r
complete -c ipull -l jobs -d 'Pulls at once on each engine: at most N images downloading from registries at a time; an image whose layers are all downloaded gives its place to the next while the engine unpacks it' -r
complete -c ipull -l engine-jobs -d 'Engines worked on at once (connected, pulled on, checked), for fleets: the others wait their turn' -r
complete -c ipull -l timeout -d 'Give up on one image after this long' -r
complete -c ipull -l platform -d 'The platform to pull, e.g. linux/arm64' -r
complete -c ipull -l min-free -d 'Refuse to pull anything when an engine\'s data root has less free space than SIZE' -r
complete -c ipull -l state -d 'Note in FILE the images each run pulled, per engine and repository (what --prune may remove); the file is replaced atomically. With --restore: forget there the images restored away from, and remove their digest references' -r -F
complete -c ipull -l keep -d 'With --prune: how many previously pulled images to keep besides the running one (the rollback set); 0 keeps only what the tag names' -r
complete -c ipull -l settle -d 'With --verify: how long every container must run without exiting or restarting' -r
complete -c ipull -l health-timeout -d 'With --verify: give up waiting for healthchecks and the settle period after this long' -r
complete -c ipull -s q -l quiet -d 'Print only errors on stderr'
complete -c ipull -s v -l verbose -d 'Say more on stderr about what is being done'
complete -c ipull -l stdin -d 'With --compose: read records from stdin too, and take the images of each record acted on from the project: every enabled service whose image uses the variable the record is named after, resolved with the record\'s latest as its value (as if in one more env file after the others). A record whose name no image uses keeps its image or --image'
complete -c ipull -l dry-run -d 'Say what would be done and do nothing: print the records ipull would act on, each with its resolved image, contacting no engine and no registry; with --prune, list what would be removed (records get would_prune) and remove nothing'
complete -c ipull -l expect-version -d 'Failure a record whose image has an org.opencontainers.image.version label that differs from its latest'
complete -c ipull -l atomic -d 'All or nothing: if any image fails, remove what this run pulled, restore tags, and fail every record'
complete -c ipull -l check -d 'Only confirm each image exists in its registry (resolve its digest); pull nothing'
complete -c ipull -l restore -d 'Point each record\'s image back at its previous_image_id; pull nothing'
complete -c ipull -l all -d 'Act on every ok record, not only those with "update": true'
complete -c ipull -l prune -d 'After a good update: remove the images the --state file says were pulled for each record\'s repository, except the one its tag names now and the --keep previous ones, on every engine; never an image a container uses, never a reference ipull did not pull. Nothing is pulled; with any failed record, nothing is pruned'
complete -c ipull -l verify -d 'The health gate, after a restart: pull nothing, and fail each record (step "health") unless every container of the services running its image runs its image_id (after --restore, its previous_image_id), is healthy where a healthcheck is defined, and neither exits nor restarts for --settle, all within --health-timeout. A container that exits, restarts or runs another image fails at once, with its last log lines'
complete -c ipull -s h -l help -d 'Print help (see more with \'--help\')'
complete -c ipull -s V -l version -d 'Print version'
