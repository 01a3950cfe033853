namespace Actors.HwBackend.Kvm;

/// <summary>KVM refused or failed something; the message is one line naming the call and the kernel's reason.</summary>
public sealed class KvmException(string message) : Exception(message);
