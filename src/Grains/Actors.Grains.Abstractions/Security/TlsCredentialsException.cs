namespace Actors.Grains.Security;

/// <summary>TLS files that cannot be used; the message is one line naming the file and the problem.</summary>
public sealed class TlsCredentialsException(string message) : Exception(message);
