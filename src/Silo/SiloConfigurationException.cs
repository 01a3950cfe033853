namespace Actors.Silo;

/// <summary>A mistake in the silo's settings (bad port, unknown backend): its message is the one line to print.</summary>
public sealed class SiloConfigurationException(string message) : Exception(message);
