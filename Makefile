# pullfirst: `make` is the front door.
#   make build        release binaries (target/static/<host>/release, target/release)
#   make test         install test dependencies if missing (as root on Debian), build, run all tests
#   make lint         rustfmt, clippy (warnings denied), generated files fresh, man pages and
#                     shell scripts clean (mandoc, shellcheck)
#   make gen          regenerate man/ and completions/ from the clap definitions
#   make install      binaries, man pages, completions and the example flows under
#                     $(DESTDIR)$(PREFIX) (examples in share/pullfirst/examples)
#   make bench        benchmarks against the peer tools; tables in bench/results/
#   make demo         a short demonstration on this machine
#   make fuzz         the property tests with many more cases (FUZZ_CASES, default 200000)
#   make mutants      mutation testing of the library code with the unit tests (cargo-mutants;
#                     MUTANTS_ARGS="-f crates/pullfirst/src/record.rs" for one file)

PREFIX  ?= /usr/local
DESTDIR ?=
CARGO   ?= cargo
# Commands that never resolve host names are linked statically against glibc where the host
# allows it: on small machines the dynamic loader is a third of a command's start-up, and
# these start once per step of every flow. Commands that talk to the network stay dynamic,
# since a static glibc cannot load the system's name-service modules safely. (STATIC= to link
# everything dynamically.)
STATIC_BINS := vfile retry
NET_BINS    := notify vcheck ipull
BINS        := $(STATIC_BINS) $(NET_BINS)
HOST        := $(shell rustc -vV 2>/dev/null | sed -n 's/^host: //p')
STATIC      ?= $(if $(findstring linux-gnu,$(HOST)),-C target-feature=+crt-static,)
STATIC_DIR  := target/static/$(HOST)/release
NET_DIR     := target/release
BIN_PATH    := $(CURDIR)/$(STATIC_DIR):$(CURDIR)/$(NET_DIR)

BINDIR  := $(DESTDIR)$(PREFIX)/bin
MANDIR  := $(DESTDIR)$(PREFIX)/share/man/man1
BASHDIR := $(DESTDIR)$(PREFIX)/share/bash-completion/completions
ZSHDIR  := $(DESTDIR)$(PREFIX)/share/zsh/site-functions
FISHDIR := $(DESTDIR)$(PREFIX)/share/fish/vendor_completions.d
EXDIR   := $(DESTDIR)$(PREFIX)/share/pullfirst/examples

.PHONY: all build test lint gen man completions install uninstall bench demo deps clean fuzz mutants

all: build

build:
	RUSTFLAGS="$(RUSTFLAGS) $(STATIC)" $(CARGO) build --release --target $(HOST) \
	  --target-dir target/static $(addprefix -p ,$(STATIC_BINS))
	$(CARGO) build --release $(addprefix -p ,$(NET_BINS))

deps:
	@sh scripts/deps.sh test

test: deps
	$(CARGO) build --workspace --bins
	$(CARGO) test --workspace

# The property tests (docs/testing.md#property-tests), run much longer than `make test` runs
# them. FUZZ_TESTS names the test binaries, as `cargo test` options.
FUZZ_CASES ?= 200000
FUZZ_TESTS ?= -p pullfirst --test properties --test secrets
fuzz:
	PROPTEST_CASES=$(FUZZ_CASES) $(CARGO) test $(FUZZ_TESTS)

# Mutation testing (docs/testing.md#mutation-testing): each mutant of the library code is built
# and the crate's unit tests run against it, one at a time (the machine is shared; MUTANTS_JOBS=
# with MUTANTS_ARGS=--in-place mutates this tree instead of a copy, for a full disk). --lib is a
# cargo argument, so that only the unit tests are built, not each crate's integration tests
# for every mutant. Settings and the mutants excluded as equivalent, each with its reason, are
# in .cargo/mutants.toml. scripts/mutants-diff.sh does the same for the code a change touched.
MUTANTS_JOBS ?= 1
MUTANTS_ARGS ?=
mutants:
	@command -v cargo-mutants >/dev/null 2>&1 || sh scripts/deps.sh mutants
	$(CARGO) mutants --workspace $(if $(MUTANTS_JOBS),--jobs $(MUTANTS_JOBS)) --cargo-arg=--lib $(MUTANTS_ARGS)

lint:
	@sh scripts/deps.sh lint
	$(CARGO) fmt --all --check
	$(CARGO) clippy --workspace --all-targets -- -D warnings
	$(CARGO) xtask gen --check
	mandoc -T lint -W warning man/*.1
	shellcheck -S warning -x examples/*.sh scripts/*.sh bench/*.sh
	sh scripts/check-docs.sh

gen:
	$(CARGO) xtask gen

man completions: gen

install: build
	install -d $(BINDIR) $(MANDIR) $(BASHDIR) $(ZSHDIR) $(FISHDIR) $(EXDIR)
	for b in $(STATIC_BINS); do install -m 755 $(STATIC_DIR)/$$b $(BINDIR)/$$b; done
	for b in $(NET_BINS); do install -m 755 $(NET_DIR)/$$b $(BINDIR)/$$b; done
	for b in $(BINS); do \
	  install -m 644 completions/$$b.bash $(BASHDIR)/$$b; \
	  install -m 644 completions/_$$b $(ZSHDIR)/_$$b; \
	  install -m 644 completions/$$b.fish $(FISHDIR)/$$b.fish; \
	done
	install -m 644 man/*.1 $(MANDIR)/
	# The example flows, ready to copy or run (they find the commands on PATH).
	install -m 755 examples/install.sh examples/nightly.sh $(EXDIR)/
	install -m 644 examples/Makefile $(EXDIR)/Makefile

uninstall:
	for b in $(BINS); do \
	  rm -f $(BINDIR)/$$b $(BASHDIR)/$$b $(ZSHDIR)/_$$b $(FISHDIR)/$$b.fish $(MANDIR)/$$b.1 $(MANDIR)/$$b-*.1; \
	done
	rm -rf $(DESTDIR)$(PREFIX)/share/pullfirst

bench: build
	PULLFIRST_BIN=$(BIN_PATH) sh bench/run.sh

demo: build
	PULLFIRST_BIN=$(BIN_PATH) sh examples/demo.sh

clean:
	$(CARGO) clean
