/// The agent's version, printed by `fluxtel --version` and sent as `User-Agent`.
public enum FluxtelVersion {
    public static let string = "0.1.0"
}
