namespace Actors.Hvctl;

/// <summary>A mistake in the command line itself (bad size, missing file, conflicting options): exit code 2.</summary>
internal sealed class UsageException(string message) : Exception(message);
