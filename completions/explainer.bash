# bash completion for explainer(1): commands, options, workflow scripts (*.lua and the
# bundled names that `explainer scripts` lists), explainer scripts (*.txt) and the
# rules of check (from `explainer check --help`).
# Installed as share/bash-completion/completions/explainer.

# The explainer being completed (or the one on PATH): it says what it has.
_explainer_exe() {
  local exe=${COMP_WORDS[0]}
  exe=${exe/#\~/$HOME}
  if ! type -P -- "$exe" >/dev/null 2>&1 && [ ! -x "$exe" ]; then exe=explainer; fi
  printf '%s\n' "$exe"
}

# The bundled workflow names.
_explainer_bundled() {
  "$(_explainer_exe)" scripts 2>/dev/null | while read -r name _; do printf '%s\n' "$name"; done
}

# The rules --disable takes: the "Rules: a, b, ..." line of `explainer check --help`.
_explainer_rules() {
  "$(_explainer_exe)" check --help 2>/dev/null | sed -n 's/^Rules: //p' | tr -d ,
}

# Files with one of the given extensions, and folders to descend into.
_explainer_files() { # _explainer_files CUR EXT...
  local cur=$1 ext f
  shift
  compopt -o filenames 2>/dev/null
  for ext in "$@"; do
    while IFS= read -r f; do COMPREPLY+=("$f"); done < <(compgen -f -X "!*.$ext" -- "$cur")
  done
  while IFS= read -r f; do COMPREPLY+=("$f"); done < <(compgen -d -- "$cur")
}

_explainer() {
  local cur prev
  cur=${COMP_WORDS[COMP_CWORD]}
  prev=${COMP_WORDS[COMP_CWORD-1]}
  COMPREPLY=()

  local commands="run parse narration status board estimate check init cache scripts slurm help"
  local run_opts="--scenes --no-skip --output-dir --output-filename --abort-on-error
    --quiet --progress --jobs -j --timeout --retries --retry-delay --rate --shard
    --dry-run --json --cache-dir --no-cache --durable --finish-only --no-finish
    --verbose --strict"
  # What slurm passes on to its jobs (it sets --shard, --finish-only, --no-finish itself).
  local slurm_opts="--scenes --no-skip --output-dir --output-filename --abort-on-error
    --quiet --progress --jobs -j --timeout --retries --retry-delay --rate
    --cache-dir --no-cache --durable --verbose --strict"
  local cmd=${COMP_WORDS[1]}
  [ "$COMP_CWORD" -le 1 ] && cmd=

  # The value of an option.
  case $prev in
    --workflow)
      [ "$cmd" = board ] && { mapfile -t COMPREPLY < <(compgen -W "$(_explainer_bundled)" -- "$cur")
        _explainer_files "$cur" lua; }
      return 0 ;;
    --output-dir|--cache-dir)
      compopt -o filenames 2>/dev/null
      mapfile -t COMPREPLY < <(compgen -d -- "$cur")
      return 0 ;;
    --progress)
      mapfile -t COMPREPLY < <(compgen -W "auto plain json quiet" -- "$cur")
      return 0 ;;
    --format)
      [ "$cmd" = init ] && mapfile -t COMPREPLY < <(compgen -W "9:16 16:9 1:1" -- "$cur")
      return 0 ;;
    --scenes|--output-filename|-j|--jobs|--timeout|--retries|--retry-delay|--rate|--shard|\
    --disable) # RULE[,RULE...]: the rule after the last comma
      [ "$cmd" = check ] && mapfile -t COMPREPLY < <(compgen -P "${cur%"${cur##*,}"}" \
        -W "$(_explainer_rules)" -- "${cur##*,}")
      return 0 ;;
    --tasks|--title|--max-size)
      return 0 ;;
  esac

  # Options of the command (or of a run).
  local opts
  case $cmd in
    parse|narration) opts="--json" ;;
    status) opts="--output-dir --output-filename --scenes --shard --json --verbose --strict" ;;
    check) opts="--json --pace --disable --caret --no-caret" ;;
    init) opts="--scenes --format --title" ;;
    cache) opts="--max-size --cache-dir --json" ;;
    board) opts="--workflow --output-dir --output-filename --scenes --serve --verbose --strict" ;;
    estimate) opts="--prices --output-dir --output-filename --scenes --shard --cache-dir --json" ;;
    scripts) opts="--path" ;;
    slurm) opts="--tasks --print $slurm_opts" ;;
    help) opts="" ;;
    run) opts="$run_opts --help" ;;
    *) opts="$run_opts --help --version" ;;
  esac
  if [[ $cur == -* ]]; then
    mapfile -t COMPREPLY < <(compgen -W "$opts" -- "$cur")
    return 0
  fi

  # Which positional argument this is (options and their values skipped).
  local i n=0 w
  for ((i = 1; i < COMP_CWORD; i++)); do
    w=${COMP_WORDS[i]}
    case $w in
      --output-dir|--progress|--format|--scenes|--output-filename|-j|--jobs|--timeout|\
      --retries|--retry-delay|--rate|--shard|--tasks|--title|--disable|--max-size|\
      --cache-dir|--workflow)
        ((i++)) ;;
      -*) ;;
      *) ((n++)) ;;
    esac
  done

  case $cmd in
    parse|narration|check)
      _explainer_files "$cur" txt ;;
    init)
      _explainer_files "$cur" txt ;;
    cache)
      [ "$n" = 1 ] && mapfile -t COMPREPLY < <(compgen -W "prune" -- "$cur") ;;
    help) # what help takes: a command or a bundled workflow
      [ "$n" = 1 ] && mapfile -t COMPREPLY < <(compgen -W "$commands $(_explainer_bundled)" -- "$cur") ;;
    scripts) ;;
    board) # [SCRIPT.lua] FILE.txt: a workflow or the script first, the script second
      if [ "$n" = 1 ]; then
        mapfile -t COMPREPLY < <(compgen -W "$(_explainer_bundled)" -- "$cur")
        _explainer_files "$cur" lua txt
      elif [ "$n" = 2 ]; then
        _explainer_files "$cur" txt
      fi ;;
    run|status|slurm|estimate)
      if [ "$n" = 1 ]; then # the workflow
        mapfile -t COMPREPLY < <(compgen -W "$(_explainer_bundled)" -- "$cur")
        _explainer_files "$cur" lua
      else
        _explainer_files "$cur" txt
      fi ;;
    *)
      if [ "$n" = 0 ]; then # a command or a workflow
        mapfile -t COMPREPLY < <(compgen -W "$commands $(_explainer_bundled)" -- "$cur")
        _explainer_files "$cur" lua
      else
        _explainer_files "$cur" txt
      fi ;;
  esac
  return 0
}

complete -F _explainer explainer
