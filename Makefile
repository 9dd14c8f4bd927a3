# pullfirst: `make` is the front door.
#   make build        release binaries in target/<host>/release
#   make test         install test dependencies if missing (as root on Debian), build, run all tests
#   make lint         rustfmt, clippy (warnings denied), generated files fresh, man pages clean
#   make gen          regenerate man/ and completions/ from the clap definitions
#   make install      binaries, man pages and completions under $(DESTDIR)$(PREFIX)
#   make bench        benchmarks against the peer tools; tables in bench/results/
#   make demo         a short demonstration on this machine

PREFIX  ?= /usr/local
DESTDIR ?=
CARGO   ?= cargo
BINS    := vfile retry

# Release binaries are linked statically against glibc where the host allows it: on small
# machines the dynamic loader is a third of a command's start-up, and these commands start
# once per step of every flow. (Set STATIC= to link dynamically.)
HOST    := $(shell rustc -vV 2>/dev/null | sed -n 's/^host: //p')
STATIC  ?= $(if $(findstring linux-gnu,$(HOST)),-C target-feature=+crt-static,)
RELEASE := target/$(HOST)/release

BINDIR  := $(DESTDIR)$(PREFIX)/bin
MANDIR  := $(DESTDIR)$(PREFIX)/share/man/man1
BASHDIR := $(DESTDIR)$(PREFIX)/share/bash-completion/completions
ZSHDIR  := $(DESTDIR)$(PREFIX)/share/zsh/site-functions
FISHDIR := $(DESTDIR)$(PREFIX)/share/fish/vendor_completions.d

.PHONY: all build test lint gen man completions install uninstall bench demo deps clean

all: build

build:
	RUSTFLAGS="$(RUSTFLAGS) $(STATIC)" $(CARGO) build --release --workspace --bins --target $(HOST)

deps:
	@sh scripts/deps.sh test

test: deps
	$(CARGO) build --workspace --bins
	$(CARGO) test --workspace

lint:
	$(CARGO) fmt --all --check
	$(CARGO) clippy --workspace --all-targets -- -D warnings
	$(CARGO) xtask gen --check
	mandoc -T lint -W warning man/*.1

gen:
	$(CARGO) xtask gen

man completions: gen

install: build
	install -d $(BINDIR) $(MANDIR) $(BASHDIR) $(ZSHDIR) $(FISHDIR)
	for b in $(BINS); do \
	  install -m 755 $(RELEASE)/$$b $(BINDIR)/$$b; \
	  install -m 644 completions/$$b.bash $(BASHDIR)/$$b; \
	  install -m 644 completions/_$$b $(ZSHDIR)/_$$b; \
	  install -m 644 completions/$$b.fish $(FISHDIR)/$$b.fish; \
	done
	install -m 644 man/*.1 $(MANDIR)/

uninstall:
	for b in $(BINS); do \
	  rm -f $(BINDIR)/$$b $(BASHDIR)/$$b $(ZSHDIR)/_$$b $(FISHDIR)/$$b.fish $(MANDIR)/$$b.1 $(MANDIR)/$$b-*.1; \
	done

bench: build
	@sh scripts/deps.sh bench
	PULLFIRST_BIN=$(RELEASE) sh bench/run.sh

demo: build
	PULLFIRST_BIN=$(RELEASE) sh examples/demo.sh

clean:
	$(CARGO) clean
