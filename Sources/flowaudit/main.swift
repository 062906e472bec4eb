print("flowaudit")
