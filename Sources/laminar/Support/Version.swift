/// The version `laminar --version` prints.
let laminarVersion = "0.9.0"
