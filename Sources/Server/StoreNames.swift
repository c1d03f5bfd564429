import Store

/// Hummingbird has an `Application` too: files that import both name the store's record by this alias.
typealias AppRecord = Application
