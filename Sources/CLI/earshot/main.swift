// earshot: a terminal monitor for the live conversations of a Rasa assistant.

import EarshotCore
import Foundation

let version = "0.1.0"

let mainHelp = """
usage: earshot COMMAND [options]

Earshot watches the events a Rasa assistant streams through its event broker
(a JSON-lines file, an SQLite or PostgreSQL `events` table, Kafka, RabbitMQ).

commands:
  watch SOURCE...    the monitor: conversations, transcripts, event detail, live filters
  tail SOURCE...     print events as they arrive (lines, raw JSON lines, or pretty JSON)
  demo [DB]          run a simulated assistant writing into SQLite, and watch it
  help [COMMAND]     this text, or a command's own help

Run `earshot COMMAND --help` for a command's options.

\(SourceArguments.help)
"""

setlocale(LC_ALL, "")
var argv = Array(CommandLine.arguments.dropFirst())
guard let command = argv.first else {
    print(mainHelp)
    exit(2)
}
argv.removeFirst()
switch command {
case "tail": exit(TailCommand.run(argv))
case "watch": exit(WatchCommand.run(argv))
case "demo": exit(DemoCommand.run(argv))
case "-h", "--help", "help":
    switch argv.first {
    case "tail": print(TailCommand.help)
    case "watch": print(WatchCommand.help)
    case "demo": print(DemoCommand.help)
    default: print(mainHelp)
    }
    exit(0)
case "--version", "version":
    print("earshot \(version)")
    exit(0)
default:
    warn("unknown command '\(command)' (see earshot --help)")
    exit(2)
}
