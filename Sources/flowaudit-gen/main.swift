print("flowaudit-gen")
