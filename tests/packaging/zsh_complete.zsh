# zsh -f zsh_complete.zsh FUNCTION_DIR HOME LINE: types LINE and Tab into an
# interactive zsh (in a pseudo-terminal, working in HOME) that has
# FUNCTION_DIR on its fpath, and prints what the terminal shows: the
# completed line, or the list of candidates. The way zsh's own test suite
# drives completion.
zmodload zsh/zpty || exit 77
dir=$1 home=$2 line=$3
zpty z "env -i TERM=dumb HOME=$home PATH=/usr/bin:/bin zsh -f -i"
zpty -w z "cd $home; fpath=($dir \$fpath); autoload -Uz compinit; compinit -u -d $home/zcompdump; PS1='%% '; unsetopt zle_bracketed_paste 2>/dev/null; setopt nobeep; genrescope() { :; }; print RE''ADY"
out= chunk=
for i in {1..100}; do
  zpty -rt z chunk 2>/dev/null && out+=$chunk
  [[ $out == *READY* ]] && break
  sleep 0.05
done
out=
zpty -w -n z "$line"$'\t'
for i in {1..20}; do
  zpty -rt z chunk 2>/dev/null && out+=$chunk
  sleep 0.05
done
zpty -d z
print -r -- "${out//$'\r'/}"
