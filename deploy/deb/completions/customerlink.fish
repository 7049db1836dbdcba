# Print an optspec for argparse to handle cmd's options that are independent of any subcommand.
function __fish_customerlink_global_optspecs
    string join \n data= config= listen= public-url= log-level= store= master-secret-file= dev dev-allow-remote h/help V/version
end

function __fish_customerlink_needs_command
    # Figure out if the current invocation already has a command.
    set -l cmd (commandline -opc)
    set -e cmd[1]
    argparse -s (__fish_customerlink_global_optspecs) -- $cmd 2>/dev/null
    or return
    if set -q argv[1]
        # Also print the command, so this can be used to figure out what it is.
        echo $argv[1]
        return 1
    end
    return 0
end

function __fish_customerlink_using_subcommand
    set -l cmd (__fish_customerlink_needs_command)
    test -z "$cmd"
    and return 1
    contains -- $cmd[1] $argv
end

complete -c customerlink -n "__fish_customerlink_needs_command" -l data -d 'Data folder (created if missing)' -r -F
complete -c customerlink -n "__fish_customerlink_needs_command" -l config -d 'TOML config file [default: <data>/customerlink.toml]' -r -F
complete -c customerlink -n "__fish_customerlink_needs_command" -l listen -d 'Address to listen on [default: 127.0.0.1:8080]' -r
complete -c customerlink -n "__fish_customerlink_needs_command" -l public-url -d 'Base URL of portal links [default: http://<listen>]' -r
complete -c customerlink -n "__fish_customerlink_needs_command" -l log-level -d 'error, warn, info, debug or trace [default: info]' -r
complete -c customerlink -n "__fish_customerlink_needs_command" -l store -d '`redb` (the file in the data folder) or postgres://user:password@host:port/db?sslmode=… [default: redb]' -r
complete -c customerlink -n "__fish_customerlink_needs_command" -l master-secret-file -d 'The master secret\'s file (must exist: 32 bytes) [default: <data>/master.key, created]' -r -F
complete -c customerlink -n "__fish_customerlink_needs_command" -l dev -d 'Development mode: email and SMS kept in the mailbox at /dev/mailbox, not sent; links hand off to /dev/resource. Loopback addresses only'
complete -c customerlink -n "__fish_customerlink_needs_command" -l dev-allow-remote -d 'Allow development mode on a non-loopback address (the mailbox holds live links)'
complete -c customerlink -n "__fish_customerlink_needs_command" -s h -l help -d 'Print help'
complete -c customerlink -n "__fish_customerlink_needs_command" -s V -l version -d 'Print version'
complete -c customerlink -n "__fish_customerlink_needs_command" -f -a "serve" -d 'Run the HTTP service (the default)'
complete -c customerlink -n "__fish_customerlink_needs_command" -f -a "tenant" -d 'Manage tenants'
complete -c customerlink -n "__fish_customerlink_needs_command" -f -a "key" -d 'Manage API keys'
complete -c customerlink -n "__fish_customerlink_needs_command" -f -a "check" -d 'Verify every index against the records (server stopped); exit 1 on any inconsistency'
complete -c customerlink -n "__fish_customerlink_needs_command" -f -a "backup" -d 'Write a consistent backup of the data folder to FILE (0600; it holds the master secret). Works while the server runs (through it) or on a stopped data folder'
complete -c customerlink -n "__fish_customerlink_needs_command" -f -a "restore" -d 'Recreate a data folder from a backup; --data must name a new or empty folder'
complete -c customerlink -n "__fish_customerlink_needs_command" -f -a "compact" -d 'Shrink the database file (server stopped)'
complete -c customerlink -n "__fish_customerlink_needs_command" -f -a "migrate" -d 'Copy the stopped embedded store of --data into an empty PostgreSQL database, then verify every table\'s count; exit 1 on a mismatch (nothing is then committed)'
complete -c customerlink -n "__fish_customerlink_needs_command" -f -a "evidence" -d 'Evidence documents (`GET /v1/customerlink/{uid}/evidence`)'
complete -c customerlink -n "__fish_customerlink_needs_command" -f -a "completions" -d 'Print the completion script for SHELL (bash, zsh, fish, elvish, powershell)'
complete -c customerlink -n "__fish_customerlink_needs_command" -f -a "man" -d 'Print the man page (roff): every command and flag'
complete -c customerlink -n "__fish_customerlink_needs_command" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c customerlink -n "__fish_customerlink_using_subcommand serve" -l data -d 'Data folder (created if missing)' -r -F
complete -c customerlink -n "__fish_customerlink_using_subcommand serve" -l config -d 'TOML config file [default: <data>/customerlink.toml]' -r -F
complete -c customerlink -n "__fish_customerlink_using_subcommand serve" -l listen -d 'Address to listen on [default: 127.0.0.1:8080]' -r
complete -c customerlink -n "__fish_customerlink_using_subcommand serve" -l public-url -d 'Base URL of portal links [default: http://<listen>]' -r
complete -c customerlink -n "__fish_customerlink_using_subcommand serve" -l log-level -d 'error, warn, info, debug or trace [default: info]' -r
complete -c customerlink -n "__fish_customerlink_using_subcommand serve" -l store -d '`redb` (the file in the data folder) or postgres://user:password@host:port/db?sslmode=… [default: redb]' -r
complete -c customerlink -n "__fish_customerlink_using_subcommand serve" -l master-secret-file -d 'The master secret\'s file (must exist: 32 bytes) [default: <data>/master.key, created]' -r -F
complete -c customerlink -n "__fish_customerlink_using_subcommand serve" -l no-migrate -d 'Refuse to start on a database of an older format instead of migrating it (by default it is migrated at start, after a copy of the old file is kept beside it)'
complete -c customerlink -n "__fish_customerlink_using_subcommand serve" -l dev -d 'Development mode: email and SMS kept in the mailbox at /dev/mailbox, not sent; links hand off to /dev/resource. Loopback addresses only'
complete -c customerlink -n "__fish_customerlink_using_subcommand serve" -l dev-allow-remote -d 'Allow development mode on a non-loopback address (the mailbox holds live links)'
complete -c customerlink -n "__fish_customerlink_using_subcommand serve" -s h -l help -d 'Print help'
complete -c customerlink -n "__fish_customerlink_using_subcommand tenant; and not __fish_seen_subcommand_from create set help" -l data -d 'Data folder (created if missing)' -r -F
complete -c customerlink -n "__fish_customerlink_using_subcommand tenant; and not __fish_seen_subcommand_from create set help" -l config -d 'TOML config file [default: <data>/customerlink.toml]' -r -F
complete -c customerlink -n "__fish_customerlink_using_subcommand tenant; and not __fish_seen_subcommand_from create set help" -l listen -d 'Address to listen on [default: 127.0.0.1:8080]' -r
complete -c customerlink -n "__fish_customerlink_using_subcommand tenant; and not __fish_seen_subcommand_from create set help" -l public-url -d 'Base URL of portal links [default: http://<listen>]' -r
complete -c customerlink -n "__fish_customerlink_using_subcommand tenant; and not __fish_seen_subcommand_from create set help" -l log-level -d 'error, warn, info, debug or trace [default: info]' -r
complete -c customerlink -n "__fish_customerlink_using_subcommand tenant; and not __fish_seen_subcommand_from create set help" -l store -d '`redb` (the file in the data folder) or postgres://user:password@host:port/db?sslmode=… [default: redb]' -r
complete -c customerlink -n "__fish_customerlink_using_subcommand tenant; and not __fish_seen_subcommand_from create set help" -l master-secret-file -d 'The master secret\'s file (must exist: 32 bytes) [default: <data>/master.key, created]' -r -F
complete -c customerlink -n "__fish_customerlink_using_subcommand tenant; and not __fish_seen_subcommand_from create set help" -l dev -d 'Development mode: email and SMS kept in the mailbox at /dev/mailbox, not sent; links hand off to /dev/resource. Loopback addresses only'
complete -c customerlink -n "__fish_customerlink_using_subcommand tenant; and not __fish_seen_subcommand_from create set help" -l dev-allow-remote -d 'Allow development mode on a non-loopback address (the mailbox holds live links)'
complete -c customerlink -n "__fish_customerlink_using_subcommand tenant; and not __fish_seen_subcommand_from create set help" -s h -l help -d 'Print help'
complete -c customerlink -n "__fish_customerlink_using_subcommand tenant; and not __fish_seen_subcommand_from create set help" -f -a "create" -d 'Create a tenant; prints its id'
complete -c customerlink -n "__fish_customerlink_using_subcommand tenant; and not __fish_seen_subcommand_from create set help" -f -a "set" -d 'Brand a tenant\'s pages and messages (as `tenant create`, not through the server): its display name, accent colour (#RRGGBB) and logo (a PNG of at most 256 KiB). Parts not given stay as they are'
complete -c customerlink -n "__fish_customerlink_using_subcommand tenant; and not __fish_seen_subcommand_from create set help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c customerlink -n "__fish_customerlink_using_subcommand tenant; and __fish_seen_subcommand_from create" -l name -r
complete -c customerlink -n "__fish_customerlink_using_subcommand tenant; and __fish_seen_subcommand_from create" -l data -d 'Data folder (created if missing)' -r -F
complete -c customerlink -n "__fish_customerlink_using_subcommand tenant; and __fish_seen_subcommand_from create" -l config -d 'TOML config file [default: <data>/customerlink.toml]' -r -F
complete -c customerlink -n "__fish_customerlink_using_subcommand tenant; and __fish_seen_subcommand_from create" -l listen -d 'Address to listen on [default: 127.0.0.1:8080]' -r
complete -c customerlink -n "__fish_customerlink_using_subcommand tenant; and __fish_seen_subcommand_from create" -l public-url -d 'Base URL of portal links [default: http://<listen>]' -r
complete -c customerlink -n "__fish_customerlink_using_subcommand tenant; and __fish_seen_subcommand_from create" -l log-level -d 'error, warn, info, debug or trace [default: info]' -r
complete -c customerlink -n "__fish_customerlink_using_subcommand tenant; and __fish_seen_subcommand_from create" -l store -d '`redb` (the file in the data folder) or postgres://user:password@host:port/db?sslmode=… [default: redb]' -r
complete -c customerlink -n "__fish_customerlink_using_subcommand tenant; and __fish_seen_subcommand_from create" -l master-secret-file -d 'The master secret\'s file (must exist: 32 bytes) [default: <data>/master.key, created]' -r -F
complete -c customerlink -n "__fish_customerlink_using_subcommand tenant; and __fish_seen_subcommand_from create" -l dev -d 'Development mode: email and SMS kept in the mailbox at /dev/mailbox, not sent; links hand off to /dev/resource. Loopback addresses only'
complete -c customerlink -n "__fish_customerlink_using_subcommand tenant; and __fish_seen_subcommand_from create" -l dev-allow-remote -d 'Allow development mode on a non-loopback address (the mailbox holds live links)'
complete -c customerlink -n "__fish_customerlink_using_subcommand tenant; and __fish_seen_subcommand_from create" -s h -l help -d 'Print help'
complete -c customerlink -n "__fish_customerlink_using_subcommand tenant; and __fish_seen_subcommand_from set" -l name -r
complete -c customerlink -n "__fish_customerlink_using_subcommand tenant; and __fish_seen_subcommand_from set" -l logo -r -F
complete -c customerlink -n "__fish_customerlink_using_subcommand tenant; and __fish_seen_subcommand_from set" -l accent -r
complete -c customerlink -n "__fish_customerlink_using_subcommand tenant; and __fish_seen_subcommand_from set" -l data -d 'Data folder (created if missing)' -r -F
complete -c customerlink -n "__fish_customerlink_using_subcommand tenant; and __fish_seen_subcommand_from set" -l config -d 'TOML config file [default: <data>/customerlink.toml]' -r -F
complete -c customerlink -n "__fish_customerlink_using_subcommand tenant; and __fish_seen_subcommand_from set" -l listen -d 'Address to listen on [default: 127.0.0.1:8080]' -r
complete -c customerlink -n "__fish_customerlink_using_subcommand tenant; and __fish_seen_subcommand_from set" -l public-url -d 'Base URL of portal links [default: http://<listen>]' -r
complete -c customerlink -n "__fish_customerlink_using_subcommand tenant; and __fish_seen_subcommand_from set" -l log-level -d 'error, warn, info, debug or trace [default: info]' -r
complete -c customerlink -n "__fish_customerlink_using_subcommand tenant; and __fish_seen_subcommand_from set" -l store -d '`redb` (the file in the data folder) or postgres://user:password@host:port/db?sslmode=… [default: redb]' -r
complete -c customerlink -n "__fish_customerlink_using_subcommand tenant; and __fish_seen_subcommand_from set" -l master-secret-file -d 'The master secret\'s file (must exist: 32 bytes) [default: <data>/master.key, created]' -r -F
complete -c customerlink -n "__fish_customerlink_using_subcommand tenant; and __fish_seen_subcommand_from set" -l dev -d 'Development mode: email and SMS kept in the mailbox at /dev/mailbox, not sent; links hand off to /dev/resource. Loopback addresses only'
complete -c customerlink -n "__fish_customerlink_using_subcommand tenant; and __fish_seen_subcommand_from set" -l dev-allow-remote -d 'Allow development mode on a non-loopback address (the mailbox holds live links)'
complete -c customerlink -n "__fish_customerlink_using_subcommand tenant; and __fish_seen_subcommand_from set" -s h -l help -d 'Print help'
complete -c customerlink -n "__fish_customerlink_using_subcommand tenant; and __fish_seen_subcommand_from help" -f -a "create" -d 'Create a tenant; prints its id'
complete -c customerlink -n "__fish_customerlink_using_subcommand tenant; and __fish_seen_subcommand_from help" -f -a "set" -d 'Brand a tenant\'s pages and messages (as `tenant create`, not through the server): its display name, accent colour (#RRGGBB) and logo (a PNG of at most 256 KiB). Parts not given stay as they are'
complete -c customerlink -n "__fish_customerlink_using_subcommand tenant; and __fish_seen_subcommand_from help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c customerlink -n "__fish_customerlink_using_subcommand key; and not __fish_seen_subcommand_from create list revoke help" -l data -d 'Data folder (created if missing)' -r -F
complete -c customerlink -n "__fish_customerlink_using_subcommand key; and not __fish_seen_subcommand_from create list revoke help" -l config -d 'TOML config file [default: <data>/customerlink.toml]' -r -F
complete -c customerlink -n "__fish_customerlink_using_subcommand key; and not __fish_seen_subcommand_from create list revoke help" -l listen -d 'Address to listen on [default: 127.0.0.1:8080]' -r
complete -c customerlink -n "__fish_customerlink_using_subcommand key; and not __fish_seen_subcommand_from create list revoke help" -l public-url -d 'Base URL of portal links [default: http://<listen>]' -r
complete -c customerlink -n "__fish_customerlink_using_subcommand key; and not __fish_seen_subcommand_from create list revoke help" -l log-level -d 'error, warn, info, debug or trace [default: info]' -r
complete -c customerlink -n "__fish_customerlink_using_subcommand key; and not __fish_seen_subcommand_from create list revoke help" -l store -d '`redb` (the file in the data folder) or postgres://user:password@host:port/db?sslmode=… [default: redb]' -r
complete -c customerlink -n "__fish_customerlink_using_subcommand key; and not __fish_seen_subcommand_from create list revoke help" -l master-secret-file -d 'The master secret\'s file (must exist: 32 bytes) [default: <data>/master.key, created]' -r -F
complete -c customerlink -n "__fish_customerlink_using_subcommand key; and not __fish_seen_subcommand_from create list revoke help" -l dev -d 'Development mode: email and SMS kept in the mailbox at /dev/mailbox, not sent; links hand off to /dev/resource. Loopback addresses only'
complete -c customerlink -n "__fish_customerlink_using_subcommand key; and not __fish_seen_subcommand_from create list revoke help" -l dev-allow-remote -d 'Allow development mode on a non-loopback address (the mailbox holds live links)'
complete -c customerlink -n "__fish_customerlink_using_subcommand key; and not __fish_seen_subcommand_from create list revoke help" -s h -l help -d 'Print help'
complete -c customerlink -n "__fish_customerlink_using_subcommand key; and not __fish_seen_subcommand_from create list revoke help" -f -a "create" -d 'Create an API key; prints the key (shown only once)'
complete -c customerlink -n "__fish_customerlink_using_subcommand key; and not __fish_seen_subcommand_from create list revoke help" -f -a "list" -d 'List a tenant\'s keys: id, user, state, name, roles, casing (`auto` when not pinned)'
complete -c customerlink -n "__fish_customerlink_using_subcommand key; and not __fish_seen_subcommand_from create list revoke help" -f -a "revoke" -d 'Revoke a key by its id; while a server runs, through it (refused at once)'
complete -c customerlink -n "__fish_customerlink_using_subcommand key; and not __fish_seen_subcommand_from create list revoke help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c customerlink -n "__fish_customerlink_using_subcommand key; and __fish_seen_subcommand_from create" -l tenant -r
complete -c customerlink -n "__fish_customerlink_using_subcommand key; and __fish_seen_subcommand_from create" -l user -r
complete -c customerlink -n "__fish_customerlink_using_subcommand key; and __fish_seen_subcommand_from create" -l agent -r
complete -c customerlink -n "__fish_customerlink_using_subcommand key; and __fish_seen_subcommand_from create" -l name -r
complete -c customerlink -n "__fish_customerlink_using_subcommand key; and __fish_seen_subcommand_from create" -l role -r
complete -c customerlink -n "__fish_customerlink_using_subcommand key; and __fish_seen_subcommand_from create" -l casing -d 'Pin the reply casing of this key\'s requests (`camel` or `pascal`); without it the casing is decided per request (README "Wire compatibility")' -r
complete -c customerlink -n "__fish_customerlink_using_subcommand key; and __fish_seen_subcommand_from create" -l data -d 'Data folder (created if missing)' -r -F
complete -c customerlink -n "__fish_customerlink_using_subcommand key; and __fish_seen_subcommand_from create" -l config -d 'TOML config file [default: <data>/customerlink.toml]' -r -F
complete -c customerlink -n "__fish_customerlink_using_subcommand key; and __fish_seen_subcommand_from create" -l listen -d 'Address to listen on [default: 127.0.0.1:8080]' -r
complete -c customerlink -n "__fish_customerlink_using_subcommand key; and __fish_seen_subcommand_from create" -l public-url -d 'Base URL of portal links [default: http://<listen>]' -r
complete -c customerlink -n "__fish_customerlink_using_subcommand key; and __fish_seen_subcommand_from create" -l log-level -d 'error, warn, info, debug or trace [default: info]' -r
complete -c customerlink -n "__fish_customerlink_using_subcommand key; and __fish_seen_subcommand_from create" -l store -d '`redb` (the file in the data folder) or postgres://user:password@host:port/db?sslmode=… [default: redb]' -r
complete -c customerlink -n "__fish_customerlink_using_subcommand key; and __fish_seen_subcommand_from create" -l master-secret-file -d 'The master secret\'s file (must exist: 32 bytes) [default: <data>/master.key, created]' -r -F
complete -c customerlink -n "__fish_customerlink_using_subcommand key; and __fish_seen_subcommand_from create" -l dev -d 'Development mode: email and SMS kept in the mailbox at /dev/mailbox, not sent; links hand off to /dev/resource. Loopback addresses only'
complete -c customerlink -n "__fish_customerlink_using_subcommand key; and __fish_seen_subcommand_from create" -l dev-allow-remote -d 'Allow development mode on a non-loopback address (the mailbox holds live links)'
complete -c customerlink -n "__fish_customerlink_using_subcommand key; and __fish_seen_subcommand_from create" -s h -l help -d 'Print help'
complete -c customerlink -n "__fish_customerlink_using_subcommand key; and __fish_seen_subcommand_from list" -l tenant -r
complete -c customerlink -n "__fish_customerlink_using_subcommand key; and __fish_seen_subcommand_from list" -l data -d 'Data folder (created if missing)' -r -F
complete -c customerlink -n "__fish_customerlink_using_subcommand key; and __fish_seen_subcommand_from list" -l config -d 'TOML config file [default: <data>/customerlink.toml]' -r -F
complete -c customerlink -n "__fish_customerlink_using_subcommand key; and __fish_seen_subcommand_from list" -l listen -d 'Address to listen on [default: 127.0.0.1:8080]' -r
complete -c customerlink -n "__fish_customerlink_using_subcommand key; and __fish_seen_subcommand_from list" -l public-url -d 'Base URL of portal links [default: http://<listen>]' -r
complete -c customerlink -n "__fish_customerlink_using_subcommand key; and __fish_seen_subcommand_from list" -l log-level -d 'error, warn, info, debug or trace [default: info]' -r
complete -c customerlink -n "__fish_customerlink_using_subcommand key; and __fish_seen_subcommand_from list" -l store -d '`redb` (the file in the data folder) or postgres://user:password@host:port/db?sslmode=… [default: redb]' -r
complete -c customerlink -n "__fish_customerlink_using_subcommand key; and __fish_seen_subcommand_from list" -l master-secret-file -d 'The master secret\'s file (must exist: 32 bytes) [default: <data>/master.key, created]' -r -F
complete -c customerlink -n "__fish_customerlink_using_subcommand key; and __fish_seen_subcommand_from list" -l dev -d 'Development mode: email and SMS kept in the mailbox at /dev/mailbox, not sent; links hand off to /dev/resource. Loopback addresses only'
complete -c customerlink -n "__fish_customerlink_using_subcommand key; and __fish_seen_subcommand_from list" -l dev-allow-remote -d 'Allow development mode on a non-loopback address (the mailbox holds live links)'
complete -c customerlink -n "__fish_customerlink_using_subcommand key; and __fish_seen_subcommand_from list" -s h -l help -d 'Print help'
complete -c customerlink -n "__fish_customerlink_using_subcommand key; and __fish_seen_subcommand_from revoke" -l data -d 'Data folder (created if missing)' -r -F
complete -c customerlink -n "__fish_customerlink_using_subcommand key; and __fish_seen_subcommand_from revoke" -l config -d 'TOML config file [default: <data>/customerlink.toml]' -r -F
complete -c customerlink -n "__fish_customerlink_using_subcommand key; and __fish_seen_subcommand_from revoke" -l listen -d 'Address to listen on [default: 127.0.0.1:8080]' -r
complete -c customerlink -n "__fish_customerlink_using_subcommand key; and __fish_seen_subcommand_from revoke" -l public-url -d 'Base URL of portal links [default: http://<listen>]' -r
complete -c customerlink -n "__fish_customerlink_using_subcommand key; and __fish_seen_subcommand_from revoke" -l log-level -d 'error, warn, info, debug or trace [default: info]' -r
complete -c customerlink -n "__fish_customerlink_using_subcommand key; and __fish_seen_subcommand_from revoke" -l store -d '`redb` (the file in the data folder) or postgres://user:password@host:port/db?sslmode=… [default: redb]' -r
complete -c customerlink -n "__fish_customerlink_using_subcommand key; and __fish_seen_subcommand_from revoke" -l master-secret-file -d 'The master secret\'s file (must exist: 32 bytes) [default: <data>/master.key, created]' -r -F
complete -c customerlink -n "__fish_customerlink_using_subcommand key; and __fish_seen_subcommand_from revoke" -l dev -d 'Development mode: email and SMS kept in the mailbox at /dev/mailbox, not sent; links hand off to /dev/resource. Loopback addresses only'
complete -c customerlink -n "__fish_customerlink_using_subcommand key; and __fish_seen_subcommand_from revoke" -l dev-allow-remote -d 'Allow development mode on a non-loopback address (the mailbox holds live links)'
complete -c customerlink -n "__fish_customerlink_using_subcommand key; and __fish_seen_subcommand_from revoke" -s h -l help -d 'Print help'
complete -c customerlink -n "__fish_customerlink_using_subcommand key; and __fish_seen_subcommand_from help" -f -a "create" -d 'Create an API key; prints the key (shown only once)'
complete -c customerlink -n "__fish_customerlink_using_subcommand key; and __fish_seen_subcommand_from help" -f -a "list" -d 'List a tenant\'s keys: id, user, state, name, roles, casing (`auto` when not pinned)'
complete -c customerlink -n "__fish_customerlink_using_subcommand key; and __fish_seen_subcommand_from help" -f -a "revoke" -d 'Revoke a key by its id; while a server runs, through it (refused at once)'
complete -c customerlink -n "__fish_customerlink_using_subcommand key; and __fish_seen_subcommand_from help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c customerlink -n "__fish_customerlink_using_subcommand check" -l data -d 'Data folder (created if missing)' -r -F
complete -c customerlink -n "__fish_customerlink_using_subcommand check" -l config -d 'TOML config file [default: <data>/customerlink.toml]' -r -F
complete -c customerlink -n "__fish_customerlink_using_subcommand check" -l listen -d 'Address to listen on [default: 127.0.0.1:8080]' -r
complete -c customerlink -n "__fish_customerlink_using_subcommand check" -l public-url -d 'Base URL of portal links [default: http://<listen>]' -r
complete -c customerlink -n "__fish_customerlink_using_subcommand check" -l log-level -d 'error, warn, info, debug or trace [default: info]' -r
complete -c customerlink -n "__fish_customerlink_using_subcommand check" -l store -d '`redb` (the file in the data folder) or postgres://user:password@host:port/db?sslmode=… [default: redb]' -r
complete -c customerlink -n "__fish_customerlink_using_subcommand check" -l master-secret-file -d 'The master secret\'s file (must exist: 32 bytes) [default: <data>/master.key, created]' -r -F
complete -c customerlink -n "__fish_customerlink_using_subcommand check" -l dev -d 'Development mode: email and SMS kept in the mailbox at /dev/mailbox, not sent; links hand off to /dev/resource. Loopback addresses only'
complete -c customerlink -n "__fish_customerlink_using_subcommand check" -l dev-allow-remote -d 'Allow development mode on a non-loopback address (the mailbox holds live links)'
complete -c customerlink -n "__fish_customerlink_using_subcommand check" -s h -l help -d 'Print help'
complete -c customerlink -n "__fish_customerlink_using_subcommand backup" -l data -d 'Data folder (created if missing)' -r -F
complete -c customerlink -n "__fish_customerlink_using_subcommand backup" -l config -d 'TOML config file [default: <data>/customerlink.toml]' -r -F
complete -c customerlink -n "__fish_customerlink_using_subcommand backup" -l listen -d 'Address to listen on [default: 127.0.0.1:8080]' -r
complete -c customerlink -n "__fish_customerlink_using_subcommand backup" -l public-url -d 'Base URL of portal links [default: http://<listen>]' -r
complete -c customerlink -n "__fish_customerlink_using_subcommand backup" -l log-level -d 'error, warn, info, debug or trace [default: info]' -r
complete -c customerlink -n "__fish_customerlink_using_subcommand backup" -l store -d '`redb` (the file in the data folder) or postgres://user:password@host:port/db?sslmode=… [default: redb]' -r
complete -c customerlink -n "__fish_customerlink_using_subcommand backup" -l master-secret-file -d 'The master secret\'s file (must exist: 32 bytes) [default: <data>/master.key, created]' -r -F
complete -c customerlink -n "__fish_customerlink_using_subcommand backup" -l dev -d 'Development mode: email and SMS kept in the mailbox at /dev/mailbox, not sent; links hand off to /dev/resource. Loopback addresses only'
complete -c customerlink -n "__fish_customerlink_using_subcommand backup" -l dev-allow-remote -d 'Allow development mode on a non-loopback address (the mailbox holds live links)'
complete -c customerlink -n "__fish_customerlink_using_subcommand backup" -s h -l help -d 'Print help'
complete -c customerlink -n "__fish_customerlink_using_subcommand restore" -l data -d 'Data folder (created if missing)' -r -F
complete -c customerlink -n "__fish_customerlink_using_subcommand restore" -l config -d 'TOML config file [default: <data>/customerlink.toml]' -r -F
complete -c customerlink -n "__fish_customerlink_using_subcommand restore" -l listen -d 'Address to listen on [default: 127.0.0.1:8080]' -r
complete -c customerlink -n "__fish_customerlink_using_subcommand restore" -l public-url -d 'Base URL of portal links [default: http://<listen>]' -r
complete -c customerlink -n "__fish_customerlink_using_subcommand restore" -l log-level -d 'error, warn, info, debug or trace [default: info]' -r
complete -c customerlink -n "__fish_customerlink_using_subcommand restore" -l store -d '`redb` (the file in the data folder) or postgres://user:password@host:port/db?sslmode=… [default: redb]' -r
complete -c customerlink -n "__fish_customerlink_using_subcommand restore" -l master-secret-file -d 'The master secret\'s file (must exist: 32 bytes) [default: <data>/master.key, created]' -r -F
complete -c customerlink -n "__fish_customerlink_using_subcommand restore" -l dev -d 'Development mode: email and SMS kept in the mailbox at /dev/mailbox, not sent; links hand off to /dev/resource. Loopback addresses only'
complete -c customerlink -n "__fish_customerlink_using_subcommand restore" -l dev-allow-remote -d 'Allow development mode on a non-loopback address (the mailbox holds live links)'
complete -c customerlink -n "__fish_customerlink_using_subcommand restore" -s h -l help -d 'Print help'
complete -c customerlink -n "__fish_customerlink_using_subcommand compact" -l data -d 'Data folder (created if missing)' -r -F
complete -c customerlink -n "__fish_customerlink_using_subcommand compact" -l config -d 'TOML config file [default: <data>/customerlink.toml]' -r -F
complete -c customerlink -n "__fish_customerlink_using_subcommand compact" -l listen -d 'Address to listen on [default: 127.0.0.1:8080]' -r
complete -c customerlink -n "__fish_customerlink_using_subcommand compact" -l public-url -d 'Base URL of portal links [default: http://<listen>]' -r
complete -c customerlink -n "__fish_customerlink_using_subcommand compact" -l log-level -d 'error, warn, info, debug or trace [default: info]' -r
complete -c customerlink -n "__fish_customerlink_using_subcommand compact" -l store -d '`redb` (the file in the data folder) or postgres://user:password@host:port/db?sslmode=… [default: redb]' -r
complete -c customerlink -n "__fish_customerlink_using_subcommand compact" -l master-secret-file -d 'The master secret\'s file (must exist: 32 bytes) [default: <data>/master.key, created]' -r -F
complete -c customerlink -n "__fish_customerlink_using_subcommand compact" -l dev -d 'Development mode: email and SMS kept in the mailbox at /dev/mailbox, not sent; links hand off to /dev/resource. Loopback addresses only'
complete -c customerlink -n "__fish_customerlink_using_subcommand compact" -l dev-allow-remote -d 'Allow development mode on a non-loopback address (the mailbox holds live links)'
complete -c customerlink -n "__fish_customerlink_using_subcommand compact" -s h -l help -d 'Print help'
complete -c customerlink -n "__fish_customerlink_using_subcommand migrate" -l to -d 'The target: postgres://user:password@host:port/db?sslmode=…' -r
complete -c customerlink -n "__fish_customerlink_using_subcommand migrate" -l data -d 'Data folder (created if missing)' -r -F
complete -c customerlink -n "__fish_customerlink_using_subcommand migrate" -l config -d 'TOML config file [default: <data>/customerlink.toml]' -r -F
complete -c customerlink -n "__fish_customerlink_using_subcommand migrate" -l listen -d 'Address to listen on [default: 127.0.0.1:8080]' -r
complete -c customerlink -n "__fish_customerlink_using_subcommand migrate" -l public-url -d 'Base URL of portal links [default: http://<listen>]' -r
complete -c customerlink -n "__fish_customerlink_using_subcommand migrate" -l log-level -d 'error, warn, info, debug or trace [default: info]' -r
complete -c customerlink -n "__fish_customerlink_using_subcommand migrate" -l store -d '`redb` (the file in the data folder) or postgres://user:password@host:port/db?sslmode=… [default: redb]' -r
complete -c customerlink -n "__fish_customerlink_using_subcommand migrate" -l master-secret-file -d 'The master secret\'s file (must exist: 32 bytes) [default: <data>/master.key, created]' -r -F
complete -c customerlink -n "__fish_customerlink_using_subcommand migrate" -l dev -d 'Development mode: email and SMS kept in the mailbox at /dev/mailbox, not sent; links hand off to /dev/resource. Loopback addresses only'
complete -c customerlink -n "__fish_customerlink_using_subcommand migrate" -l dev-allow-remote -d 'Allow development mode on a non-loopback address (the mailbox holds live links)'
complete -c customerlink -n "__fish_customerlink_using_subcommand migrate" -s h -l help -d 'Print help'
complete -c customerlink -n "__fish_customerlink_using_subcommand evidence; and not __fish_seen_subcommand_from verify help" -l data -d 'Data folder (created if missing)' -r -F
complete -c customerlink -n "__fish_customerlink_using_subcommand evidence; and not __fish_seen_subcommand_from verify help" -l config -d 'TOML config file [default: <data>/customerlink.toml]' -r -F
complete -c customerlink -n "__fish_customerlink_using_subcommand evidence; and not __fish_seen_subcommand_from verify help" -l listen -d 'Address to listen on [default: 127.0.0.1:8080]' -r
complete -c customerlink -n "__fish_customerlink_using_subcommand evidence; and not __fish_seen_subcommand_from verify help" -l public-url -d 'Base URL of portal links [default: http://<listen>]' -r
complete -c customerlink -n "__fish_customerlink_using_subcommand evidence; and not __fish_seen_subcommand_from verify help" -l log-level -d 'error, warn, info, debug or trace [default: info]' -r
complete -c customerlink -n "__fish_customerlink_using_subcommand evidence; and not __fish_seen_subcommand_from verify help" -l store -d '`redb` (the file in the data folder) or postgres://user:password@host:port/db?sslmode=… [default: redb]' -r
complete -c customerlink -n "__fish_customerlink_using_subcommand evidence; and not __fish_seen_subcommand_from verify help" -l master-secret-file -d 'The master secret\'s file (must exist: 32 bytes) [default: <data>/master.key, created]' -r -F
complete -c customerlink -n "__fish_customerlink_using_subcommand evidence; and not __fish_seen_subcommand_from verify help" -l dev -d 'Development mode: email and SMS kept in the mailbox at /dev/mailbox, not sent; links hand off to /dev/resource. Loopback addresses only'
complete -c customerlink -n "__fish_customerlink_using_subcommand evidence; and not __fish_seen_subcommand_from verify help" -l dev-allow-remote -d 'Allow development mode on a non-loopback address (the mailbox holds live links)'
complete -c customerlink -n "__fish_customerlink_using_subcommand evidence; and not __fish_seen_subcommand_from verify help" -s h -l help -d 'Print help'
complete -c customerlink -n "__fish_customerlink_using_subcommand evidence; and not __fish_seen_subcommand_from verify help" -f -a "verify" -d 'Check a document\'s signature and access-log hash chain offline; prints each fault (FAIL …) and exits 1 if anything fails. Without --key, the key of the master secret of --data (or --master-secret-file) is used'
complete -c customerlink -n "__fish_customerlink_using_subcommand evidence; and not __fish_seen_subcommand_from verify help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c customerlink -n "__fish_customerlink_using_subcommand evidence; and __fish_seen_subcommand_from verify" -l key -d 'The service\'s public key (base64, as `GET /v1/evidence/key` shows it), or a file holding it' -r
complete -c customerlink -n "__fish_customerlink_using_subcommand evidence; and __fish_seen_subcommand_from verify" -l data -d 'Data folder (created if missing)' -r -F
complete -c customerlink -n "__fish_customerlink_using_subcommand evidence; and __fish_seen_subcommand_from verify" -l config -d 'TOML config file [default: <data>/customerlink.toml]' -r -F
complete -c customerlink -n "__fish_customerlink_using_subcommand evidence; and __fish_seen_subcommand_from verify" -l listen -d 'Address to listen on [default: 127.0.0.1:8080]' -r
complete -c customerlink -n "__fish_customerlink_using_subcommand evidence; and __fish_seen_subcommand_from verify" -l public-url -d 'Base URL of portal links [default: http://<listen>]' -r
complete -c customerlink -n "__fish_customerlink_using_subcommand evidence; and __fish_seen_subcommand_from verify" -l log-level -d 'error, warn, info, debug or trace [default: info]' -r
complete -c customerlink -n "__fish_customerlink_using_subcommand evidence; and __fish_seen_subcommand_from verify" -l store -d '`redb` (the file in the data folder) or postgres://user:password@host:port/db?sslmode=… [default: redb]' -r
complete -c customerlink -n "__fish_customerlink_using_subcommand evidence; and __fish_seen_subcommand_from verify" -l master-secret-file -d 'The master secret\'s file (must exist: 32 bytes) [default: <data>/master.key, created]' -r -F
complete -c customerlink -n "__fish_customerlink_using_subcommand evidence; and __fish_seen_subcommand_from verify" -l dev -d 'Development mode: email and SMS kept in the mailbox at /dev/mailbox, not sent; links hand off to /dev/resource. Loopback addresses only'
complete -c customerlink -n "__fish_customerlink_using_subcommand evidence; and __fish_seen_subcommand_from verify" -l dev-allow-remote -d 'Allow development mode on a non-loopback address (the mailbox holds live links)'
complete -c customerlink -n "__fish_customerlink_using_subcommand evidence; and __fish_seen_subcommand_from verify" -s h -l help -d 'Print help'
complete -c customerlink -n "__fish_customerlink_using_subcommand evidence; and __fish_seen_subcommand_from help" -f -a "verify" -d 'Check a document\'s signature and access-log hash chain offline; prints each fault (FAIL …) and exits 1 if anything fails. Without --key, the key of the master secret of --data (or --master-secret-file) is used'
complete -c customerlink -n "__fish_customerlink_using_subcommand evidence; and __fish_seen_subcommand_from help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c customerlink -n "__fish_customerlink_using_subcommand completions" -l data -d 'Data folder (created if missing)' -r -F
complete -c customerlink -n "__fish_customerlink_using_subcommand completions" -l config -d 'TOML config file [default: <data>/customerlink.toml]' -r -F
complete -c customerlink -n "__fish_customerlink_using_subcommand completions" -l listen -d 'Address to listen on [default: 127.0.0.1:8080]' -r
complete -c customerlink -n "__fish_customerlink_using_subcommand completions" -l public-url -d 'Base URL of portal links [default: http://<listen>]' -r
complete -c customerlink -n "__fish_customerlink_using_subcommand completions" -l log-level -d 'error, warn, info, debug or trace [default: info]' -r
complete -c customerlink -n "__fish_customerlink_using_subcommand completions" -l store -d '`redb` (the file in the data folder) or postgres://user:password@host:port/db?sslmode=… [default: redb]' -r
complete -c customerlink -n "__fish_customerlink_using_subcommand completions" -l master-secret-file -d 'The master secret\'s file (must exist: 32 bytes) [default: <data>/master.key, created]' -r -F
complete -c customerlink -n "__fish_customerlink_using_subcommand completions" -l dev -d 'Development mode: email and SMS kept in the mailbox at /dev/mailbox, not sent; links hand off to /dev/resource. Loopback addresses only'
complete -c customerlink -n "__fish_customerlink_using_subcommand completions" -l dev-allow-remote -d 'Allow development mode on a non-loopback address (the mailbox holds live links)'
complete -c customerlink -n "__fish_customerlink_using_subcommand completions" -s h -l help -d 'Print help'
complete -c customerlink -n "__fish_customerlink_using_subcommand man" -l data -d 'Data folder (created if missing)' -r -F
complete -c customerlink -n "__fish_customerlink_using_subcommand man" -l config -d 'TOML config file [default: <data>/customerlink.toml]' -r -F
complete -c customerlink -n "__fish_customerlink_using_subcommand man" -l listen -d 'Address to listen on [default: 127.0.0.1:8080]' -r
complete -c customerlink -n "__fish_customerlink_using_subcommand man" -l public-url -d 'Base URL of portal links [default: http://<listen>]' -r
complete -c customerlink -n "__fish_customerlink_using_subcommand man" -l log-level -d 'error, warn, info, debug or trace [default: info]' -r
complete -c customerlink -n "__fish_customerlink_using_subcommand man" -l store -d '`redb` (the file in the data folder) or postgres://user:password@host:port/db?sslmode=… [default: redb]' -r
complete -c customerlink -n "__fish_customerlink_using_subcommand man" -l master-secret-file -d 'The master secret\'s file (must exist: 32 bytes) [default: <data>/master.key, created]' -r -F
complete -c customerlink -n "__fish_customerlink_using_subcommand man" -l dev -d 'Development mode: email and SMS kept in the mailbox at /dev/mailbox, not sent; links hand off to /dev/resource. Loopback addresses only'
complete -c customerlink -n "__fish_customerlink_using_subcommand man" -l dev-allow-remote -d 'Allow development mode on a non-loopback address (the mailbox holds live links)'
complete -c customerlink -n "__fish_customerlink_using_subcommand man" -s h -l help -d 'Print help'
complete -c customerlink -n "__fish_customerlink_using_subcommand help; and not __fish_seen_subcommand_from serve tenant key check backup restore compact migrate evidence completions man help" -f -a "serve" -d 'Run the HTTP service (the default)'
complete -c customerlink -n "__fish_customerlink_using_subcommand help; and not __fish_seen_subcommand_from serve tenant key check backup restore compact migrate evidence completions man help" -f -a "tenant" -d 'Manage tenants'
complete -c customerlink -n "__fish_customerlink_using_subcommand help; and not __fish_seen_subcommand_from serve tenant key check backup restore compact migrate evidence completions man help" -f -a "key" -d 'Manage API keys'
complete -c customerlink -n "__fish_customerlink_using_subcommand help; and not __fish_seen_subcommand_from serve tenant key check backup restore compact migrate evidence completions man help" -f -a "check" -d 'Verify every index against the records (server stopped); exit 1 on any inconsistency'
complete -c customerlink -n "__fish_customerlink_using_subcommand help; and not __fish_seen_subcommand_from serve tenant key check backup restore compact migrate evidence completions man help" -f -a "backup" -d 'Write a consistent backup of the data folder to FILE (0600; it holds the master secret). Works while the server runs (through it) or on a stopped data folder'
complete -c customerlink -n "__fish_customerlink_using_subcommand help; and not __fish_seen_subcommand_from serve tenant key check backup restore compact migrate evidence completions man help" -f -a "restore" -d 'Recreate a data folder from a backup; --data must name a new or empty folder'
complete -c customerlink -n "__fish_customerlink_using_subcommand help; and not __fish_seen_subcommand_from serve tenant key check backup restore compact migrate evidence completions man help" -f -a "compact" -d 'Shrink the database file (server stopped)'
complete -c customerlink -n "__fish_customerlink_using_subcommand help; and not __fish_seen_subcommand_from serve tenant key check backup restore compact migrate evidence completions man help" -f -a "migrate" -d 'Copy the stopped embedded store of --data into an empty PostgreSQL database, then verify every table\'s count; exit 1 on a mismatch (nothing is then committed)'
complete -c customerlink -n "__fish_customerlink_using_subcommand help; and not __fish_seen_subcommand_from serve tenant key check backup restore compact migrate evidence completions man help" -f -a "evidence" -d 'Evidence documents (`GET /v1/customerlink/{uid}/evidence`)'
complete -c customerlink -n "__fish_customerlink_using_subcommand help; and not __fish_seen_subcommand_from serve tenant key check backup restore compact migrate evidence completions man help" -f -a "completions" -d 'Print the completion script for SHELL (bash, zsh, fish, elvish, powershell)'
complete -c customerlink -n "__fish_customerlink_using_subcommand help; and not __fish_seen_subcommand_from serve tenant key check backup restore compact migrate evidence completions man help" -f -a "man" -d 'Print the man page (roff): every command and flag'
complete -c customerlink -n "__fish_customerlink_using_subcommand help; and not __fish_seen_subcommand_from serve tenant key check backup restore compact migrate evidence completions man help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c customerlink -n "__fish_customerlink_using_subcommand help; and __fish_seen_subcommand_from tenant" -f -a "create" -d 'Create a tenant; prints its id'
complete -c customerlink -n "__fish_customerlink_using_subcommand help; and __fish_seen_subcommand_from tenant" -f -a "set" -d 'Brand a tenant\'s pages and messages (as `tenant create`, not through the server): its display name, accent colour (#RRGGBB) and logo (a PNG of at most 256 KiB). Parts not given stay as they are'
complete -c customerlink -n "__fish_customerlink_using_subcommand help; and __fish_seen_subcommand_from key" -f -a "create" -d 'Create an API key; prints the key (shown only once)'
complete -c customerlink -n "__fish_customerlink_using_subcommand help; and __fish_seen_subcommand_from key" -f -a "list" -d 'List a tenant\'s keys: id, user, state, name, roles, casing (`auto` when not pinned)'
complete -c customerlink -n "__fish_customerlink_using_subcommand help; and __fish_seen_subcommand_from key" -f -a "revoke" -d 'Revoke a key by its id; while a server runs, through it (refused at once)'
complete -c customerlink -n "__fish_customerlink_using_subcommand help; and __fish_seen_subcommand_from evidence" -f -a "verify" -d 'Check a document\'s signature and access-log hash chain offline; prints each fault (FAIL …) and exits 1 if anything fails. Without --key, the key of the master secret of --data (or --master-secret-file) is used'
