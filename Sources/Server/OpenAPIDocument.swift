import Foundation

/// The OpenAPI 3.1 document of this server (`Sources/Server/openapi.json`, a resource), served
/// at `/openapi.json`. `OpenAPIConformanceTests` proves it equal to the router both ways.
package enum OpenAPIDocument {
    /// The document's bytes, as committed.
    package static let data: [UInt8] = {
        guard let url = Bundle.module.url(forResource: "openapi", withExtension: "json"),
            let data = try? Data(contentsOf: url)
        else {
            return Array(
                #"{"openapi": "3.1.0", "info": {"title": "GigLedger (document missing from the build)", "version": "0"}, "paths": {}}"#
                    .utf8)
        }
        return Array(data)
    }()
}
