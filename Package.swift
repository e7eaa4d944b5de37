// swift-tools-version: 6.1
import PackageDescription

let strict: [SwiftSetting] = [
    .enableUpcomingFeature("ExistentialAny")
]

let package = Package(
    name: "GigLedger",
    platforms: [.macOS(.v15)],
    // The libraries a platform links: their `public` declarations are the API (documented). Server,
    // GigCTLCore and Simulation are parts of the gigctl and gigbench executables, `package` only.
    products: [
        .library(name: "PQ", targets: ["PQ"]),
        .library(name: "EventStore", targets: ["EventStore"]),
        .library(name: "Marketplace", targets: ["Marketplace"]),
        .library(name: "GigLedger", targets: ["GigLedger"]),
        .library(name: "Projections", targets: ["Projections"]),
        .library(name: "Timers", targets: ["Timers"]),
        .executable(name: "gigctl", targets: ["gigctl"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser.git", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-log.git", from: "1.16.2"),
        .package(url: "https://github.com/x-sheep/swift-property-based.git", from: "2.0.1"),
        .package(url: "https://github.com/hummingbird-project/hummingbird.git", from: "2.28.1"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle.git", from: "2.13.0"),
        .package(url: "https://github.com/vapor/jwt-kit.git", from: "5.7.1"),
        .package(url: "https://github.com/apple/swift-metrics.git", from: "2.13.0"),
        // AES-GCM for crypto-shredding (GigLedger's PersonalDataVault); already resolved through jwt-kit.
        .package(url: "https://github.com/apple/swift-crypto.git", from: "4.1.0"),
        .package(url: "https://github.com/swift-server/swift-prometheus.git", from: "2.4.1"),
    ],
    targets: [
        // libpq, found by pkg-config (Debian: libpq-dev). Only `PQ` imports it.
        .systemLibrary(
            name: "CLibPQ",
            pkgConfig: "libpq",
            providers: [.apt(["libpq-dev"])]
        ),
        // The one safe Swift layer over libpq.
        .target(
            name: "PQ",
            dependencies: [
                "CLibPQ",
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: strict
        ),
        // The vocabulary every module shares, Foundation only: JSONValue and the error classification.
        .target(name: "LedgerBasics", swiftSettings: strict),
        // The append-only event log: append, read, follow, checkpoints, migrations.
        .target(
            name: "EventStore",
            dependencies: [
                "LedgerBasics",
                "PQ",
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: strict
        ),
        // The marketplace domain: per aggregate Command, Event, State, decide, evolve. No I/O.
        .target(name: "Marketplace", dependencies: ["LedgerBasics"], swiftSettings: strict),
        // Command handling: load, fold, decide, append with the version read; personal fields
        // sealed per data subject on the way in (PersonalDataVault).
        .target(
            name: "GigLedger",
            dependencies: [
                "Marketplace", "EventStore", "PQ", .product(name: "Logging", package: "swift-log"),
                .product(name: "Crypto", package: "swift-crypto"),
            ],
            swiftSettings: strict
        ),
        // The projector engine: checkpointed batches, a lease per projector, status.
        .target(
            name: "Projections",
            dependencies: ["Marketplace", "EventStore", "PQ", .product(name: "Logging", package: "swift-log")],
            swiftSettings: strict
        ),
        // The timers job: reads what is due from the timers read model, sends the domain's commands.
        .target(
            name: "Timers",
            dependencies: [
                "GigLedger", "Projections", "Marketplace", "EventStore", "PQ",
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: strict
        ),
        // The market simulator: a deterministic market through the real command path.
        .target(
            name: "Simulation",
            dependencies: ["GigLedger", "Marketplace", "EventStore"],
            swiftSettings: strict
        ),
        // The HTTP service: commands, reads and the event stream over Hummingbird, JWT-authenticated.
        .target(
            name: "Server",
            dependencies: [
                "PQ",
                "EventStore",
                "Marketplace",
                "GigLedger",
                "Projections",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "JWTKit", package: "jwt-kit"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "Logging", package: "swift-log"),
            ],
            resources: [.copy("openapi.json")],
            swiftSettings: strict
        ),
        // The admin CLI's commands, as a library so tests can drive them.
        .target(
            name: "GigCTLCore",
            dependencies: [
                "Server",
                "PQ",
                "EventStore",
                "Marketplace",
                "GigLedger",
                "Simulation",
                "Projections",
                "Timers",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "Metrics", package: "swift-metrics"),
            ],
            swiftSettings: strict
        ),
        .executableTarget(
            name: "gigctl",
            dependencies: ["GigCTLCore", .product(name: "ArgumentParser", package: "swift-argument-parser")],
            swiftSettings: strict
        ),
        // Benchmark harness (scripts/bench): the log against raw INSERT baselines.
        .executableTarget(
            name: "gigbench",
            dependencies: ["PQ", "EventStore", "GigLedger", "Marketplace", "Projections", "Simulation"],
            swiftSettings: strict
        ),
        // Test-only helpers: a database per suite, cloned from a migrated template.
        .target(
            name: "TestSupport",
            dependencies: ["PQ", "EventStore", "GigLedger"],
            path: "Tests/TestSupport",
            swiftSettings: strict
        ),
        .testTarget(
            name: "MarketplaceTests",
            dependencies: ["Marketplace", .product(name: "PropertyBased", package: "swift-property-based")],
            swiftSettings: strict
        ),
        .testTarget(
            name: "GigLedgerTests",
            dependencies: [
                "GigLedger", "Marketplace", "EventStore", "PQ", "Projections", "Timers", "TestSupport",
            ],
            swiftSettings: strict
        ),
        .testTarget(
            name: "SimulationTests",
            dependencies: ["Simulation", "GigLedger", "Marketplace", "EventStore", "PQ", "TestSupport"],
            swiftSettings: strict
        ),
        .testTarget(
            name: "ProjectionsTests",
            dependencies: ["Projections", "GigLedger", "Marketplace", "Simulation", "EventStore", "PQ", "TestSupport"],
            swiftSettings: strict
        ),
        .testTarget(name: "PQTests", dependencies: ["PQ", "TestSupport"], swiftSettings: strict),
        .testTarget(name: "EventStoreTests", dependencies: ["EventStore", "PQ", "TestSupport"], swiftSettings: strict),
        // Faults survived, bad input refused, nothing lost: crash, restart, race, fuzz, roles.
        .testTarget(
            name: "ReliabilityTests",
            dependencies: [
                "GigLedger", "Marketplace", "EventStore", "PQ", "Projections", "Simulation", "GigCTLCore",
                "Server", "TestSupport",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HummingbirdTesting", package: "hummingbird"),
            ],
            swiftSettings: strict
        ),
        .testTarget(
            name: "ServerTests",
            dependencies: [
                "Server", "GigLedger", "Marketplace", "EventStore", "PQ", "Projections", "TestSupport",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HummingbirdTesting", package: "hummingbird"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: strict
        ),
        .testTarget(
            name: "GigCTLTests",
            dependencies: ["GigCTLCore", "GigLedger", "EventStore", "Marketplace", "PQ", "TestSupport"],
            swiftSettings: strict
        ),
    ],
    swiftLanguageModes: [.v6]
)
