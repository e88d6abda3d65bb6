// swift-tools-version:6.0
// Earshot: a terminal monitor for the live conversations of a Rasa assistant.
//
// Layers (dependencies point one way, down this file):
//   System/*   one system-library target per C library (Debian -dev packages)
//   Core       EarshotCore: events, decoding, conversations, filters, source/sink protocols. Pure Swift.
//   Adapters   one target per broker, each behind Core's MessageSource / MessageSink protocols;
//              EarshotAdapters opens a source or sink from a SourceSpec.
//   TUI        EarshotTUI: cell grid, widgets, themes, key table (pure Swift);
//              EarshotCurses: the ncurses backend, the only code that calls curses.
//   CLI        the `earshot` executable.
import PackageDescription

let package = Package(
    name: "Earshot",
    products: [
        .executable(name: "earshot", targets: ["earshot"]),
    ],
    targets: [
        // MARK: C libraries (system-library targets)
        .systemLibrary(name: "CSQLite", path: "Sources/System/CSQLite",
                       providers: [.apt(["libsqlite3-dev"])]),
        .systemLibrary(name: "CYAML", path: "Sources/System/CYAML",
                       providers: [.apt(["libyaml-dev"])]),
        .systemLibrary(name: "CNcursesw", path: "Sources/System/CNcursesw",
                       providers: [.apt(["libncurses-dev"])]),
        .systemLibrary(name: "CRdKafka", path: "Sources/System/CRdKafka",
                       providers: [.apt(["librdkafka-dev"])]),
        .systemLibrary(name: "CRabbitMQ", path: "Sources/System/CRabbitMQ",
                       providers: [.apt(["librabbitmq-dev"])]),
        .systemLibrary(name: "CLibPQ", path: "Sources/System/CLibPQ", pkgConfig: "libpq",
                       providers: [.apt(["libpq-dev"])]),

        // MARK: Core (pure Swift, no C library)
        .target(name: "EarshotCore", path: "Sources/Core/EarshotCore"),

        // MARK: Adapters
        .target(name: "EarshotFile", dependencies: ["EarshotCore"],
                path: "Sources/Adapters/EarshotFile"),
        .target(name: "EarshotSQLite", dependencies: ["EarshotCore", "CSQLite"],
                path: "Sources/Adapters/EarshotSQLite"),
        .target(name: "EarshotEndpoints", dependencies: ["EarshotCore", "CYAML"],
                path: "Sources/Adapters/EarshotEndpoints"),
        .target(name: "EarshotAdapters",
                dependencies: ["EarshotCore", "EarshotFile", "EarshotSQLite", "EarshotEndpoints"],
                path: "Sources/Adapters/EarshotAdapters"),

        // MARK: TUI (screen model and widgets in pure Swift; ncurses only in EarshotCurses)
        .target(name: "EarshotTUI", dependencies: ["EarshotCore"], path: "Sources/TUI/EarshotTUI"),
        .target(name: "EarshotCurses", dependencies: ["EarshotTUI", "CNcursesw"], path: "Sources/TUI/EarshotCurses"),

        // MARK: CLI
        .executableTarget(name: "earshot", dependencies: ["EarshotCore", "EarshotAdapters", "EarshotTUI", "EarshotCurses"],
                          path: "Sources/CLI/earshot"),

        // MARK: Tests
        .testTarget(name: "EarshotCoreTests", dependencies: ["EarshotCore"],
                    path: "Tests/EarshotCoreTests"),
        .testTarget(name: "EarshotAdapterTests",
                    dependencies: ["EarshotCore", "EarshotAdapters", "EarshotFile", "EarshotSQLite", "EarshotEndpoints"],
                    path: "Tests/EarshotAdapterTests", exclude: ["Fixtures"]),
        .testTarget(name: "EarshotTUITests", dependencies: ["EarshotTUI", "EarshotCore"],
                    path: "Tests/EarshotTUITests"),
        .testTarget(name: "EarshotCLITests", dependencies: ["earshot"],
                    path: "Tests/EarshotCLITests"),
    ]
)
