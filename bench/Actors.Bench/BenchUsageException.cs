namespace Actors.Bench;

/// <summary>A mistake the user can fix (bad argument, missing file, bad image): reported in one line, without a stack trace.</summary>
internal sealed class BenchUsageException(string message) : Exception(message);
