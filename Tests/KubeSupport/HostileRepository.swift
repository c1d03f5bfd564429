/// What anyone who can push may put in a repository, for the tests that show Gantry survives it.
public enum HostileRepository {
    /// An app config whose first stage's `with:` is a YAML alias bomb: 9 levels of 9 aliases, 9^9 (387 million)
    /// nodes once expanded, under 1 KiB on disk.
    public static func aliasBombApp(name: String) -> String {
        var lines = ["apiVersion: gantry.dev/v1", "spec:", "  name: \(name)", "  pipeline:", "    stages:",
                     "      - name: SCRIPT_RUN", "        with:", "          run: \"true\""]
        lines.append("          l0: &l0 [x, x, x, x, x, x, x, x, x]")
        for level in 1...8 {
            let previous = Array(repeating: "*l\(level - 1)", count: 9).joined(separator: ", ")
            lines.append("          l\(level): &l\(level) [\(previous)]")
        }
        return lines.joined(separator: "\n") + "\n"
    }

    /// A bash script, run in a work clone, that commits `<directory>/.git/config` on top of HEAD and prints the
    /// new commit. git's porcelain refuses such a path and its plumbing does not, so a push can carry one.
    /// Afterwards `git reset --soft <commit>` keeps the index without it: the next commit removes it again.
    public static func nestedGitFolderScript(directory: String) -> String {
        """
        set -e
        blob=$(printf '[core]\\n' | git hash-object -w --stdin)
        new=$(printf '100644 blob %s\\tconfig\\n' "$blob" | git mktree)
        name=.git
        dir='\(directory)'
        while :; do
          if [ -n "$dir" ]; then spec="HEAD:$dir"; else spec="HEAD^{tree}"; fi
          new=$( { git ls-tree "$spec" | awk -F'\\t' -v n="$name" '$2 != n'; printf '040000 tree %s\\t%s\\n' "$new" "$name"; } | git mktree )
          [ -z "$dir" ] && break
          case "$dir" in */*) name=${dir##*/}; dir=${dir%/*};; *) name=$dir; dir="";; esac
        done
        git -c user.name=Mallory -c user.email=mallory@example.com commit-tree "$new" -p HEAD -m "nested .git folder"
        """
    }
}
