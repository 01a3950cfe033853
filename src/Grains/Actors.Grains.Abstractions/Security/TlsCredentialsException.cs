namespace Actors.Grains.Security;

/// <summary>TLS files that cannot be used; the message is one line naming the file and the problem.</summary>
/// <param name="message">One line naming the file and what is wrong with it.</param>
public sealed class TlsCredentialsException(string message) : Exception(message);
