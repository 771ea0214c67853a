"""A review's result on its pull request, published the same way by the App and the Action:
one PR publisher (`pull.PullPublisher`) over a memory port each of them implements."""
