import Foundation

/// A post-receive hook in plain bash + openssl + curl, as a user would write one for their own Git server:
/// each pushed ref becomes a GitHub-style push delivery signed with HMAC-SHA256.
public enum PostReceiveHook {
    public static func script(url: String, secretFile: String) -> String {
    """
    #!/bin/bash
    # Sends each pushed ref to Gantry as a signed GitHub-style push delivery (written by `gantry demo`).
    set -u
    url="\(url)"
    secret=$(cat '\(secretFile)')
    while read -r old new ref; do
      msg=$(git log -1 --format=%s "$new" 2>/dev/null | sed 's/\\\\/\\\\\\\\/g; s/"/\\\\"/g')
      author=$(git log -1 --format=%an "$new" 2>/dev/null | sed 's/\\\\/\\\\\\\\/g; s/"/\\\\"/g')
      deleted=false; [ "$new" = "0000000000000000000000000000000000000000" ] && deleted=true
      body=$(printf '{"ref":"%s","before":"%s","after":"%s","deleted":%s,"repository":{"clone_url":"%s"},"head_commit":{"id":"%s","message":"%s","author":{"name":"%s"}},"pusher":{"name":"%s"}}' \\
        "$ref" "$old" "$new" "$deleted" "$PWD" "$new" "$msg" "$author" "$author")
      sig=$(printf '%s' "$body" | openssl dgst -sha256 -hmac "$secret" -r | cut -d' ' -f1)
      delivery=$(cat /proc/sys/kernel/random/uuid)
      code=$(curl -s -o /dev/null -w '%{http_code}' --max-time 10 -X POST "$url" \\
        -H 'Content-Type: application/json' -H 'X-GitHub-Event: push' -H "X-GitHub-Delivery: $delivery" \\
        -H "X-Hub-Signature-256: sha256=$sig" --data-binary "$body")
      echo "gantry: $ref -> delivery $delivery answered $code"
    done
    """
}
}
